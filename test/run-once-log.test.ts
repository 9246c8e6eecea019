/** What runOnce logs in each process: the runner that it ran the task, every other process whose outcome it took. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../harness/child.js';

const script = join(import.meta.dirname, '../examples/run-once/migrate.ts');
const children: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await killAll(children);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const logged = (child: Child) => child.events.filter((e) => e.ev === 'log').map((e) => String(e.message));

describe('runOnce logs', { timeout: 90_000 }, () => {
  it('a waiter says whose run it took the outcome of, never that it was elected primary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'primacy-run-once-log-'));
    dirs.push(dir);
    const env = { DB_FILE: join(dir, 'db.json'), LOCK_DIR: dir, MIGRATION_MS: '1000' };
    const group = Array.from({ length: 3 }, () => new Child(script, [], env));
    children.push(...group);
    const results = await Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'result' || e.ev === 'error', 60_000)));
    expect(results.every((e) => e.ev === 'result')).toBe(true);
    const runner = results.find((e) => e.ran === true) as ChildEvent;
    expect(results.filter((e) => e.ran === true)).toHaveLength(1);
    await Promise.all(group.map((child) => child.exited));

    for (const child of group) {
      const lines = logged(child);
      // Being elected is how a process gets to read the outcome, not news: whoever ran it says "running".
      expect(lines.filter((line) => /elected primary/.test(line))).toEqual([]);
      if (child.pid === runner.pid) {
        expect(lines).toContainEqual(expect.stringMatching(/"migrate-to-v2": running in pid \d+ \(token \d+\)/));
        expect(lines).toContainEqual(expect.stringMatching(/"migrate-to-v2": completed in \d+ ms/));
      } else {
        expect(lines).toContainEqual(
          expect.stringMatching(new RegExp(`"migrate-to-v2": (already )?completed by pid ${runner.pid} on .*; not run here`)),
        );
        expect(lines.filter((line) => /running in pid/.test(line))).toEqual([]);
      }
    }

    // A later start finds it done: it says so too.
    const later = new Child(script, [], env);
    children.push(later);
    expect(await later.waitFor((e) => e.ev === 'result', 60_000)).toMatchObject({ ran: false, runner: runner.pid });
    await later.exited;
    expect(logged(later)).toEqual([expect.stringMatching(new RegExp(`already completed by pid ${runner.pid} on .*; not run here$`))]);
  });
});
