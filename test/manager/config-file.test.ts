/**
 * `primacy start` from a config file: the PaaS-style example (a server app plus a Node program and a
 * shell script as named processes), each app's environment and restart behaviour, SIGTERM then
 * SIGKILL after the app's kill timeout, no orphans when the manager dies, and errors that name the
 * file, the app and the key.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { planFromConfig } from '../../src/manager/config-apps.js';
import { descendants } from '../../src/manager/process-tree.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const repo = join(import.meta.dirname, '../..');
const primacy = join(repo, 'src/cli/primacy.ts');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The pids of processes whose command line contains `text`, among `root`'s descendants. */
const running = (root: number, text: string) =>
  descendants(root).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text);
    } catch {
      return false;
    }
  });

describe('primacy start with a config file', { timeout: 90_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-config-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  // From the repository (its tsx and tsconfig paths), the config's own directory being the apps'.
  const start = (args: string[], env: Record<string, string> = {}) => {
    const manager = new Child(primacy, ['start', '--state-dir', join(dir, 'state'), ...args], { XDG_RUNTIME_DIR: dir, ...env });
    children.push(manager);
    return manager;
  };
  const ready = (manager: Child) =>
    until(
      () => /workers? ready/.test(manager.stderr),
      40_000,
      () => `ready; stderr: ${manager.stderr}`,
    );

  it('runs the PaaS-style example: web workers, a Node program and a shell script, each with its env, restarted on a crash', async () => {
    const port = await freePort();
    const manager = start(['--config', join(repo, 'examples/paas/primacy.config.mjs')], { PORT: String(port), SPOOL: join(dir, 'spool') });
    await ready(manager);
    expect(manager.stderr).toMatch(/4 workers ready: web-0 pid \d+, web-1 pid \d+, queue pid \d+, mail pid \d+/);

    const web = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { type: string; worker: string };
    expect(web.type).toBe('web');
    expect(web.worker).toMatch(/^web-[01]$/);
    await until(() => /queue worker up: TYPE=worker/.test(manager.strayLines.join('\n')), 10_000, 'queue up');
    await until(() => /mail worker up: TYPE=worker/.test(manager.strayLines.join('\n')), 10_000, 'mail up');

    // A signup goes web -> queue (node) -> mail (sh).
    const { id } = (await (await fetch(`http://127.0.0.1:${port}/signup?email=x@example.com`, { method: 'POST' })).json()) as {
      id: string;
    };
    await until(async () => (await readdir(join(dir, 'spool/sent'))).includes(`${id}.txt`), 10_000, 'the mail sent');

    // The shell script itself (not the runner standing in for it) crashes: its app is restarted.
    const [script] = running(manager.pid, 'mail-worker.sh');
    expect(script).toBeDefined();
    process.kill(script as number, 'SIGKILL');
    await until(
      () => /mail exited; restarting/.test(manager.stderr),
      10_000,
      () => `mail restart; stderr: ${manager.stderr}`,
    );
    await until(() => running(manager.pid, 'mail-worker.sh').some((pid) => pid !== script), 10_000, 'a new mail worker');

    // A graceful stop: every command gets SIGTERM (the script's trap runs) and none outlives the manager.
    const commands = [...running(manager.pid, 'mail-worker.sh'), ...running(manager.pid, 'queue-worker.mjs')];
    manager.kill('SIGTERM');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
    expect(manager.strayLines.join('\n')).toMatch(/mail worker: SIGTERM, stopping/);
    expect(manager.strayLines.join('\n')).toMatch(/queue worker: SIGTERM, stopping/);
    expect(commands.filter(alive)).toEqual([]);
  });

  it("sends SIGTERM, then SIGKILL after the app's own kill timeout, to a command that ignores SIGTERM", async () => {
    await writeFile(
      join(dir, 'primacy.config.json'),
      JSON.stringify({
        killTimeout: 60_000,
        apps: [{ name: 'stubborn', command: "trap '' TERM; echo up; while :; do sleep 0.05; done", killTimeout: '1s' }],
      }),
    );
    const manager = start(['--config', join(dir, 'primacy.config.json')]);
    await ready(manager);
    // Its output reaches the manager's stdout as `stubborn[<pid>] | up` (the default --log-format prefix).
    await until(() => manager.strayLines.some((line) => /^stubborn\[\d+\] \| up$/.test(line)), 10_000, 'the command up');
    const [shell] = running(manager.pid, 'trap');
    const startedStop = performance.now();
    manager.kill('SIGTERM');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
    const took = performance.now() - startedStop;
    // Not the manager-wide 60 s: the app's 1 s, then SIGKILL.
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(30_000);
    // SIGKILLed with its runner; reaped by init a moment later (a zombie still answers kill 0).
    await until(() => !alive(shell as number), 5000, 'the stubborn shell gone');
  });

  it('leaves no command running when the manager is SIGKILLed', async () => {
    await writeFile(
      join(dir, 'primacy.config.mjs'),
      "export default { apps: [{ name: 'sleeper', command: ['sh', '-c', 'echo up; exec sleep 300'], instances: 2 }] };",
    );
    const manager = start(['--config', join(dir, 'primacy.config.mjs')]);
    await ready(manager);
    expect(manager.stderr).toMatch(/2 workers ready: sleeper-0 pid \d+, sleeper-1 pid \d+/);
    await until(() => running(manager.pid, 'sleep 300').length === 2, 10_000, 'two sleepers');
    const sleepers = running(manager.pid, 'sleep 300');
    manager.kill('SIGKILL');
    await manager.exited;
    await until(
      () => sleepers.every((pid) => !alive(pid)),
      20_000,
      () => `sleepers gone: ${sleepers.filter(alive)}`,
    );
  });

  it('refuses a bad config with the file, the app and the key named, before starting anything', async () => {
    const problem = (config: unknown) => {
      try {
        planFromConfig(config, join(dir, 'primacy.config.json'));
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    const apps = (list: unknown[]) => ({ apps: list });
    const cases: Array<[unknown, RegExp]> = [
      [
        apps([{ name: 'queue', command: 'x', instances: 0 }]),
        /app "queue"\] Expected `instances` to be a whole number >= 1 or 'max', got 0/,
      ],
      [
        apps([{ name: 'mail', script: 'a.js', command: 'b' }]),
        /app "mail"\] Expected `script` to be a Node module path, or else `command`/,
      ],
      [apps([{ name: 'web', server: true, command: 'x' }]), /app "web"\] Expected `script` to be the path of a Node module/],
      [apps([{ name: 'q', command: 'x', killTimeout: 'soon' }]), /app "q"\] Expected `killTimeout` to be a duration/],
      [apps([{ name: 'q', command: 'x', memory: '1G' }]), /apps\[0\]\] .*"memory".*"maxMemory"/],
      [
        apps([
          { name: 'a', command: 'x' },
          { name: 'a', command: 'y' },
        ]),
        /apps\[1\]\] Expected `name` to be a name no other app has/,
      ],
      [
        apps([
          { name: 'w', server: true, script: 'w.js' },
          { name: 'v', server: true, script: 'v.js' },
        ]),
        /at most one app with `server: true`/,
      ],
      [apps([{ name: 'w', command: 'x', health: { url: 'ftp://x' } }]), /app "w"\] Expected `health.url` to be an http/],
      [apps([{ name: 'w', server: true, script: 'w.js', health: { url: 'http://x/' } }]), /app "w"\] Expected `health.url` to be absent/],
      [apps([{ name: 'w', command: 'x', env: { PORT: 3000 } }]), /app "w"\] Expected `env` to be an object of string values/],
      [{ apps: [] }, /Expected `apps` to be a non-empty array/],
      [{ apps: [{ name: 'w', command: 'x' }], tll: 1 }, /"tll"/],
    ];
    for (const [config, expected] of cases) expect(problem(config)).toMatch(expected);
    expect(problem(apps([{ name: 'w', command: 'x', killTimeout: '15s', maxMemory: '512M' }]))).toBe('accepted');

    // Through the CLI: exit 64, before anything is started.
    await writeFile(join(dir, 'bad.json'), JSON.stringify(apps([{ name: 'queue', command: 'x', instances: 0 }])));
    await writeFile(join(dir, 'broken.json'), '{ "apps": [');
    for (const [file, expected] of [
      ['bad.json', /\[config bad\.json: app "queue"\] Expected `instances`/],
      ['broken.json', /broken\.json: not valid JSON/],
    ] as const) {
      const result = spawnSync(process.execPath, ['--import', 'tsx', primacy, 'start', '--config', join(dir, file)], {
        encoding: 'utf8',
        env: { ...process.env, XDG_RUNTIME_DIR: dir },
        timeout: 30_000,
      });
      expect(result.status, result.stderr).toBe(64);
      expect(result.stderr).toMatch(expected);
    }
  });
});
