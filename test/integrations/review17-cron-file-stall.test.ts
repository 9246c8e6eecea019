/**
 * Review of issue 17: node-cron's runCoordinator on a file lock, with an instance SIGSTOPped in the
 * middle of its claim (after the file lock checked its lease, before the rename that publishes the
 * claim record) and resumed after its lease. Meanwhile another instance claimed and ran another
 * firing of the same task. The resumed instance's stale record must not erase that claim: an
 * instance that asks about that firing later (its clock a few seconds late, its timer late) must
 * still be told no.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { pause, until } from '../helpers/until.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'review17-claimer.ts');
const dir = mkdtempSync(join(tmpdir(), 'primacy-review17-stall-'));
const children: Child[] = [];
afterEach(() => killAll(children));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const claimer = (key: string, stall = false): Child => {
  const child = new Child(FIXTURE, [dir, key, '1000', ...(stall ? ['stall'] : [])]);
  children.push(child);
  return child;
};
const answer = (child: Child): Promise<ChildEvent> => child.waitFor((e) => e.ev === 'decided' || e.ev === 'failed', 15_000);
const stopped = (child: Child) => readFileSync(`/proc/${child.process.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T');

describe('review17: runCoordinator on a file lock, an instance paused mid-claim', () => {
  it('a firing claimed while another instance was paused in its write stays claimed once that instance resumes', async () => {
    const first = 'job:2030-01-01T00:00:01.000Z';
    const second = 'job:2030-01-01T00:00:02.000Z';
    const paused = claimer(first, true);
    await paused.waitFor((e) => e.ev === 'stalling', 15_000);
    await until(() => stopped(paused), 5000, 'the claimer SIGSTOPped');
    await pause(1500); // past its 1 s lease

    const other = answer(claimer(second));
    expect(await other).toMatchObject({ ev: 'decided', run: true }); // this instance runs the second firing

    paused.kill('SIGCONT');
    expect(await answer(paused)).toMatchObject({ ev: 'failed', code: 'ERR_PRIMACY_CRON_STALLED' });

    // A late instance asks about the second firing: it ran already, so no.
    expect(await answer(claimer(second))).toMatchObject({ ev: 'decided', run: false });
  });
});
