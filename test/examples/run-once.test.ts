/** examples/run-once/migrate.ts, four processes at a time: one runs the migration, the others wait for its outcome. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';

const script = join(import.meta.dirname, '../../examples/run-once/migrate.ts');
const children: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await killAll(children);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function deploy(count: number, env: Record<string, string> | ((dir: string) => Record<string, string>) = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'primacy-run-once-'));
  dirs.push(dir);
  const settings = { DB_FILE: join(dir, 'db.json'), LOCK_DIR: dir, MIGRATION_MS: '1500', ...(typeof env === 'function' ? env(dir) : env) };
  const start = (extra: Record<string, string> = {}) => {
    const child = new Child(script, [], { ...settings, ...extra });
    children.push(child);
    return child;
  };
  return { dir, db: settings.DB_FILE, start, group: Array.from({ length: count }, () => start()) };
}

const finished = (child: Child) => child.waitFor((e) => e.ev === 'result' || e.ev === 'error', 20_000);
const applied = (db: string) => (JSON.parse(readFileSync(db, 'utf8')) as { applied: Array<{ pid: number }> }).applied;

describe('runOnce example: a migration at deploy', () => {
  it('runs in exactly one of four processes; the other three wait and learn it completed', async () => {
    const { db, group } = deploy(4);
    const outcomes = await Promise.all(group.map(finished));
    const runners = outcomes.filter((e) => e.ran === true);
    expect(runners).toHaveLength(1);
    const runner = runners[0] as ChildEvent;
    expect(outcomes.filter((e) => e.ran === false)).toHaveLength(3);
    expect(new Set(outcomes.map((e) => e.runner))).toEqual(new Set([runner.pid]));
    expect(applied(db)).toEqual([{ pid: runner.pid, token: runner.token }]);
    // The waiters logged whom they were waiting for while it ran.
    const waiters = group.filter((child) => child.pid !== runner.pid);
    await Promise.all(waiters.map((child) => child.exited));
    expect(waiters.some((child) => child.events.length > 0)).toBe(true);
  });

  it('lets another process run it when the runner is killed mid-migration', async () => {
    const { db, group } = deploy(4);
    const first = await Promise.any(group.map((child) => child.waitFor((e) => e.ev === 'running', 10_000).then(() => child)));
    first.kill('SIGKILL');
    const survivors = group.filter((child) => child !== first);
    const outcomes = await Promise.all(survivors.map(finished));
    const runners = outcomes.filter((e) => e.ran === true);
    expect(runners).toHaveLength(1);
    expect(runners[0]?.pid).not.toBe(first.pid);
    expect(outcomes.every((e) => e.ev === 'result' && e.runner === runners[0]?.pid)).toBe(true);
    expect(applied(db).map((entry) => entry.pid)).toEqual([runners[0]?.pid]);
  });

  it('tells the waiters it failed, and a later deploy runs it again', async () => {
    const { dir, db, group, start } = deploy(4, (home) => ({ MIGRATION_FAIL: '1', MIGRATION_MS: '0', MIGRATION_GATE: join(home, 'gate') }));
    // Holds the migration until the three others are waiting for it (not a later deploy that
    // would find the failure already recorded, however slowly a busy machine starts them).
    const waiting = () =>
      new Set(group.flatMap((c) => c.events.filter((e) => /waiting for pid/.test(String(e.message))).map((e) => e.pid)));
    const deadline = Date.now() + 20_000;
    while (waiting().size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(waiting().size).toBe(3);
    writeFileSync(join(dir, 'gate'), '');
    const outcomes = await Promise.all(group.map(finished));
    expect(outcomes.every((e) => e.ev === 'error')).toBe(true);
    const runner = outcomes.find((e) => e.message === 'column "email" already exists');
    expect(runner).toBeDefined();
    const waiters = outcomes.filter((e) => e !== runner);
    expect(waiters).toHaveLength(3);
    for (const waiter of waiters) {
      expect(waiter.name).toBe('RunOnceFailedError');
      expect(waiter.message).toContain(`failed in pid ${runner?.pid}`);
      expect(waiter.message).toContain('column "email" already exists');
    }
    const retry = await finished(start({ MIGRATION_FAIL: '0' }));
    expect(retry).toMatchObject({ ev: 'result', ran: true });
    expect(applied(db).map((entry) => entry.pid)).toEqual([retry.pid]);
  });

  it('returns at once, without running it, once it has completed', async () => {
    const { db, start } = deploy(0);
    const first = await finished(start());
    expect(first.ran).toBe(true);
    const later = start();
    const again = await finished(later);
    expect(again).toMatchObject({ ran: false, runner: first.pid });
    expect(later.events.some((e) => e.ev === 'running')).toBe(false);
    expect(applied(db)).toHaveLength(1);
  });
});
