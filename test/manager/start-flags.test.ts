/**
 * `primacy start`'s flags for every manager option: each reaches the option it names, bad values
 * are refused naming the flag, and two of them proven end to end with real workers: the heartbeat
 * timings (a stopped worker is killed at the flag's timeout, not the default) and the memory limit
 * (a worker above it is replaced without a failed request).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { applyManagerFlags } from '../../src/cli/start-flags.js';
import { resolveManagerOptions } from '../../src/manager/options.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const httpApp = join(import.meta.dirname, 'fixtures/http-app.ts');
const memoryApp = join(import.meta.dirname, 'fixtures/memory-app.ts');

describe('primacy start flags', { timeout: 90_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-flags-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });
  const start = (args: string[], env: Record<string, string> = {}) => {
    const manager = new Child(primacy, ['start', ...args, '--state-dir', dir], { XDG_RUNTIME_DIR: dir, ...env });
    children.push(manager);
    return manager;
  };

  it('maps every supervision flag onto its manager option, durations and sizes in readable units', () => {
    const options = resolveManagerOptions(
      applyManagerFlags(
        { script: httpApp },
        {
          'ack-timeout': '20s',
          'heartbeat-interval': '250ms',
          'heartbeat-timeout': '2s',
          'kill-timeout': '1m',
          'drain-time': '300',
          restart: 'on-failure',
          'backoff-initial': '200ms',
          'backoff-max': '5s',
          'stable-after': '1m',
          'crash-loop-burst': '3',
          'crash-loop-window': '30s',
          'health-interval': '10s',
          'health-timeout': '1500',
          'max-memory': '512M',
        },
      ) as Parameters<typeof resolveManagerOptions>[0],
    );
    expect(options).toMatchObject({
      ackTimeout: 20_000,
      heartbeatInterval: 250,
      heartbeatTimeout: 2000,
      killTimeout: 60_000,
      drainTime: 300,
      restart: 'on-failure',
      backoff: { backoffInitial: 200, backoffMax: 5000, stableAfter: 60_000 },
      crashLoop: { burst: 3, window: 30_000 },
      health: { interval: 10_000, timeout: 1500 },
      maxMemory: 512 * 1024 * 1024,
    });
    // A flag overrides a config file's value, key by key inside nested options.
    const merged = applyManagerFlags({ script: httpApp, backoff: { backoffMax: 1000, stableAfter: 2000 } }, { 'backoff-max': '3s' });
    expect(merged.backoff).toEqual({ backoffMax: 3000, stableAfter: 2000 });
  });

  it('refuses bad values naming the flag, before starting anything', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', primacy, 'start', httpApp, '--state-dir', dir, ...args], {
        encoding: 'utf8',
        env: { ...process.env, XDG_RUNTIME_DIR: dir },
        timeout: 30_000,
      });
    const cases: Array<[string[], RegExp]> = [
      [['--max-memory', 'lots'], /--max-memory must be a size in bytes, or like 512M or 1G, got "lots"/],
      [['--restart', 'sometimes'], /--restart must be always, on-failure or never, got "sometimes"/],
      [['--crash-loop-burst', '0'], /--crash-loop-burst must be a whole number >= 1, got "0"/],
      // Judged by the manager together with another value, and still said with the flag's name.
      [
        ['--heartbeat-interval', '100', '--heartbeat-timeout', '150'],
        /--heartbeat-timeout: Expected `heartbeatTimeout` to be more than twice heartbeatInterval/,
      ],
    ];
    for (const [args, expected] of cases) {
      const result = run(...args);
      expect(result.status, result.stderr).toBe(64);
      expect(result.stderr).toMatch(expected);
    }
  });

  it('uses the heartbeat flags: a stopped worker is killed at their timeout, not the default 5 s', async () => {
    const manager = start([httpApp, '--workers', '1', '--heartbeat-interval', '100', '--heartbeat-timeout', '500'], { PORT: '0' });
    await until(
      () => /1 worker ready: worker-0 pid (\d+)/.exec(manager.stderr),
      30_000,
      () => `ready: ${manager.stderr}`,
    );
    const pid = Number(/worker-0 pid (\d+)/.exec(manager.stderr)?.[1]);
    process.kill(pid, 'SIGSTOP');
    const line = await until(() => /worker-0 \(pid \d+\) sent no heartbeat for (\d+) ms: killed/.exec(manager.stderr), 20_000, 'hung');
    const silent = Number(line[1]);
    expect(silent).toBeGreaterThanOrEqual(500);
    expect(silent).toBeLessThan(5000);
  });

  it('replaces a worker above --max-memory without failing a request', async () => {
    const port = await freePort();
    const manager = start([memoryApp, '--workers', '1', '--max-memory', '200M', '--heartbeat-interval', '200'], { PORT: String(port) });
    await until(
      () => /1 worker ready/.test(manager.stderr),
      30_000,
      () => `ready: ${manager.stderr}`,
    );
    const first = await (await fetch(`http://127.0.0.1:${port}/grow?mb=250`)).text();
    // Requests go on throughout the replacement; every one is answered.
    let failures = 0;
    let answeredBy = first;
    await until(
      async () => {
        try {
          answeredBy = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        } catch {
          failures++;
        }
        return answeredBy !== first;
      },
      30_000,
      () => `a new worker; stderr: ${manager.stderr}`,
    );
    expect(manager.stderr).toMatch(
      new RegExp(`worker-0 \\(pid ${first}\\) uses \\d+ MB, above its 200 MB limit: replacing it without downtime`),
    );
    expect(failures).toBe(0);
  });
});
