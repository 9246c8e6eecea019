/**
 * pino in real processes: three candidates log to stdout through pino's own destination; the
 * primary's `elected` line carries its token and the election's bindings; after a SIGKILL of the
 * primary, the next one's line carries a higher token and the new holder's pid, in the same shape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../harness/child.js';

const script = join(import.meta.dirname, 'fixtures/pino-candidate.ts');
const children: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await killAll(children);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const isElected = (event: ChildEvent) => typeof event.msg === 'string' && event.msg.includes('elected primary');

describe('pino in real processes', { timeout: 60_000 }, () => {
  it('elected lines are JSON with the token and the bindings, before and after a SIGKILL of the primary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'primacy-pino-'));
    dirs.push(dir);
    const group = Array.from({ length: 3 }, () => new Child(script, [dir, 'billing-cron']));
    children.push(...group);
    await Promise.all(group.map((child) => child.waitFor((event) => event.msg === 'ready', 20_000)));

    const first = await Promise.any(group.map((child) => child.waitFor(isElected, 10_000)));
    const expected = (pid: number, token: number) => ({
      level: 30,
      pid,
      service: 'billing', // the service's own bindings stay
      primacy: { election: 'billing-cron', id: expect.any(String), identity: `billing-${pid}`, lock: 'file' },
      token,
      msg: `[primacy] elected primary of "billing-cron" with token ${token}`,
    });
    expect(first).toMatchObject(expected(first.pid, first.token as number));

    const primary = group.find((child) => child.pid === first.pid) as Child;
    primary.process.kill('SIGKILL');
    const others = group.filter((child) => child !== primary);
    // A dead holder on this host is taken over at once (the file lock checks its pid); 20 s is generous.
    const next = await Promise.any(others.map((child) => child.waitFor(isElected, 20_000)));
    expect(next).toMatchObject(expected(next.pid, next.token as number));
    expect(next.token).toBeGreaterThan(first.token as number);
    expect((next.primacy as { id: string }).id).not.toBe((first.primacy as { id: string }).id);
    // One primary: the survivor that did not win logged no elected line.
    for (const child of others) expect(child.events.filter(isElected)).toHaveLength(child.pid === next.pid ? 1 : 0);
  });
});
