import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileLockPath, inspectLockDir } from '../../adapters/file.js';
import { parseStatusArgs } from '../../src/cli/args.js';
import { assess, duration, verdictLine } from '../../src/cli/render.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LOCK_STATUS = join(root, 'src/cli/lock-status.ts');
const PRIMACY = join(root, 'src/cli/primacy.ts');
const HOLDER = join(root, 'test/cli/fixtures/holder.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'primacy-cli-'));
});

afterEach(async () => {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }),
  );
  children.clear();
  await rm(dir, { recursive: true, force: true });
});

function start(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  return child;
}

/** Runs a CLI to completion (stdin is not a terminal). */
function run(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cli?: string } = {}): Promise<Result> {
  const child = start(options.cli ?? LOCK_STATUS, args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Collects a child's stdout lines; `next(pattern)` waits for the first unseen line matching it. */
function lines(child: ChildProcess) {
  const seen: string[] = [];
  let buffer = '';
  let waiter: (() => void) | undefined;
  child.stdout?.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    seen.push(...parts);
    waiter?.();
  });
  let cursor = 0;
  return {
    seen,
    async next(pattern: RegExp, timeout = 10_000): Promise<string> {
      const deadline = Date.now() + timeout;
      for (;;) {
        while (cursor < seen.length) {
          const line = seen[cursor++]!;
          if (pattern.test(line)) return line;
        }
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} within ${timeout}ms; got ${JSON.stringify(seen)}`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/** Starts a real holder process and waits until it is elected. */
async function startHolder(name: string): Promise<{ child: ChildProcess; token: number; out: ReturnType<typeof lines> }> {
  const child = start(HOLDER, [name, dir]);
  const out = lines(child);
  const line = await out.next(/^elected \d+$/);
  return { child, token: Number(line.split(' ')[1]), out };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

describe('lock-status on a file lock', () => {
  it('shows a live holder: exit 0, its pid and token in the table and in JSON', async () => {
    const { child, token } = await startHolder('held');
    const [table, json] = await Promise.all([run(['held', '--dir', dir]), run(['--path', fileLockPath('held', dir), '--json'])]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^pid\\s+${child.pid}$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^token\\s+${token}$`, 'm'));
    expect(table.stdout).toMatch(/^alive\s+yes$/m);
    expect(table.stdout).toContain(`held by pid ${child.pid} on host`);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status).toMatchObject({ name: 'held', state: 'held', verdict: 'held', location: fileLockPath('held', dir) });
    expect(status.record).toMatchObject({ token, alive: true, holder: { pid: child.pid } });
    expect(typeof status.now).toBe('number');
  });

  it('reports a lock that was never taken: exit 1, state none', async () => {
    const result = await run(['nobody', '--dir', dir, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'none', verdict: 'free', record: null });
  });

  it('reports a SIGKILLed holder as dead: exit 2', async () => {
    const { child, token } = await startHolder('killed');
    child.kill('SIGKILL');
    await exited(child);
    const result = await run(['killed', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^alive\s+no$/m);
    expect(result.stdout).toMatch(new RegExp(`^token\\s+${token}$`, 'm'));
    expect(result.stdout).toContain(`STALE: holder pid ${child.pid} on host`);
    expect(result.stdout).toMatch(/is dead/);
  });

  it('reports a lock released by SIGTERM as free: exit 1', async () => {
    const { child, token } = await startHolder('termed');
    child.kill('SIGTERM');
    await exited(child);
    expect(child.signalCode).toBe('SIGTERM');
    const result = await run(['termed', '--dir', dir, '--json']);
    expect(result.code).toBe(1);
    const status = JSON.parse(result.stdout);
    expect(status).toMatchObject({ state: 'free', verdict: 'free' });
    expect(status.record).toMatchObject({ token, state: 'free', holder: { pid: child.pid } });
  });

  it('--release --yes frees a held lock, and the live holder steps down at its next renew', async () => {
    const { child, token, out } = await startHolder('forced');
    // Freeze the holder so it cannot renew (and re-acquire) before we look: it stays alive.
    child.kill('SIGSTOP');
    const released = await run(['forced', '--dir', dir, '--release', '--yes']);
    expect(released.code).toBe(0);
    expect(released.stdout).toContain(`released lock forced, token ${token}, held by pid ${child.pid}`);
    expect(released.stderr).toContain('warning:');
    const after = await run(['forced', '--dir', dir, '--json']);
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toMatchObject({ state: 'free', verdict: 'free', record: { token } });
    child.kill('SIGCONT');
    // 'lost' if its renew finds the file gone; 'expired' if its 2 s deadline passed while frozen.
    await out.next(new RegExp(`^revoked (lost|expired) ${token}$`));
    await out.next(new RegExp(`^elected ${token + 1}$`));
  });

  it('--release refuses without a terminal and without --yes: exit 64, lock untouched', async () => {
    const { token } = await startHolder('guarded');
    const result = await run(['guarded', '--dir', dir, '--release']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('pass --yes');
    const record = await inspectLockDir(fileLockPath('guarded', dir), 'guarded');
    expect(record).toMatchObject({ state: 'held', token });
  });

  it('--watch --json prints one line per change and exits cleanly on SIGINT', async () => {
    const holder = await startHolder('watched');
    const watcher = start(LOCK_STATUS, ['watched', '--dir', dir, '--watch', '--json', '--interval', '100']);
    const out = lines(watcher);
    expect(JSON.parse(await out.next(/^\{/))).toMatchObject({ verdict: 'held', record: { holder: { pid: holder.child.pid } } });
    holder.child.kill('SIGTERM');
    expect(JSON.parse(await out.next(/^\{/))).toMatchObject({ state: 'free', verdict: 'free' });
    // Several polls later, nothing changed: no new line.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(out.seen).toHaveLength(2);
    const code = new Promise((resolve) => watcher.once('exit', (c, signal) => resolve([c, signal])));
    watcher.kill('SIGINT');
    expect(await code).toEqual([1, null]);
  });
});

describe('lock-status usage errors (exit 64)', () => {
  it.each([
    [['--bogus'], /unknown option --bogus/],
    [['--watch', '--interval', '-5'], /--interval must be a positive number of milliseconds, got "-5"/],
    [['--watch', '--interval=abc'], /--interval must be a positive number of milliseconds, got "abc"/],
    [['name', '--path', '/tmp/x'], /either a lock NAME \("name"\) or --path/],
    [['--dir'], /--dir needs a value/],
  ])('%j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('see lock-status --help');
    expect(result.stdout).toBe('');
  });

  it('--help documents the exit codes', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '64 ']) expect(result.stdout).toContain(`\n  ${code}`);
  });
});

describe('lock-status --env', () => {
  it.each([
    ['true', 0, /^primary: env PRIMARY_WORKER=true/],
    ['false', 1, /^secondary: env PRIMARY_WORKER=false/],
  ])('PRIMARY_WORKER=%s exits %i', async (value, code, output) => {
    const result = await run(['--env'], { env: { ...process.env, PRIMARY_WORKER: value } });
    expect(result.code).toBe(code);
    expect(result.stdout).toMatch(output);
  });

  it('PRIMARY_WORKER unset: exit 64 naming the variable', async () => {
    const result = await run(['--env'], { env: envWithout('PRIMARY_WORKER') });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('PRIMARY_WORKER');
  });

  it.each([
    ['0', 0, 'primary'],
    ['1', 1, 'secondary'],
  ])('--instance-var NODE_APP_INSTANCE=%s exits %i', async (value, code, role) => {
    const result = await run(['--env', '--instance-var', 'NODE_APP_INSTANCE', '--json'], {
      env: { ...envWithout('PRIMARY_WORKER'), NODE_APP_INSTANCE: value },
    });
    expect(result.code).toBe(code);
    expect(JSON.parse(result.stdout)).toMatchObject({ role, primary: code === 0 });
  });
});

describe('primacy', () => {
  it('`primacy status` behaves like lock-status', async () => {
    const { child, token } = await startHolder('aliased');
    const [status, bad] = await Promise.all([
      run(['status', 'aliased', '--dir', dir, '--json'], { cli: PRIMACY }),
      run(['status', '--bogus'], { cli: PRIMACY }),
    ]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ verdict: 'held', record: { token, holder: { pid: child.pid } } });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('see primacy status --help');
  });

  it('unknown commands and bad start/inspect usage: exit 64 saying what is wrong', async () => {
    const [unknown, noApp, badWorkers] = await Promise.all([
      run(['frobnicate'], { cli: PRIMACY }),
      run(['start'], { cli: PRIMACY }),
      run(['start', 'app.js', '--workers', 'many'], { cli: PRIMACY }),
    ]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(noApp.code).toBe(64);
    expect(noApp.stderr).toContain('start needs the app to run');
    expect(badWorkers.code).toBe(64);
    expect(badWorkers.stderr).toContain('--workers must be a whole number >= 1, got "many"');
  });
});

describe('lock-status internals', () => {
  it('parses a watch with the default interval, and refuses stray options', () => {
    expect(parseStatusArgs(['x', '--watch'])).toMatchObject({ watch: 1000, target: { kind: 'name', name: 'x' } });
    expect(() => parseStatusArgs(['--yes'])).toThrow(/--yes only applies with --release/);
    expect(() => parseStatusArgs(['--var', 'X'])).toThrow(/--var only applies with --env/);
    expect(() => parseStatusArgs(['--env', 'name'])).toThrow(/--env reads the environment/);
  });

  it('judges an expired lease of a holder it cannot see as stale', () => {
    const holder = { id: 'h', pid: 42, hostname: 'elsewhere', processStartedAt: 0, version: '0.1.0' };
    const record = { name: 'n', state: 'held', token: 3, holder, acquiredAt: 0, renewedAt: 1000, expiresAt: 3000, alive: null } as const;
    const stale = assess('n', '/l', { ...record, location: '/l' }, 4500);
    expect(stale).toMatchObject({ verdict: 'stale', reason: 'expired' });
    expect(verdictLine(stale)).toContain('expired 1.5s ago');
    expect(assess('n', '/l', { ...record, location: '/l' }, 2000)).toMatchObject({ verdict: 'held', reason: 'unknown' });
    expect(duration(125_000)).toBe('2m 05s');
  });
});
