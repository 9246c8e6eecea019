/**
 * The recorder's account of deaths: a process's own `exit` line, stamped before it was gone, ends
 * its term, whether it arrives before or after someone else saw it gone (a worker leaving with its
 * SIGKILLed manager is seen by a /proc poll, later). And a hang is recorded with whether we held it.
 */
import { describe, expect, it } from 'vitest';
import { Recorder } from '../../chaos/recorder.js';

describe('chaos recorder', () => {
  it('ends a term at the process’s own exit stamp, whichever report comes first', () => {
    const before = new Recorder();
    before.spawned(1, 0);
    before.line({ ev: 'elected', pid: 1, t: 100, token: 1 });
    before.line({ ev: 'exit', pid: 1, t: 200, code: 0 });
    before.died(1, 260, 'exited with its manager', true);
    expect(before.events.at(-1)).toMatchObject({ ev: 'died', pid: 1, t: 200 });

    const after = new Recorder();
    after.spawned(1, 0);
    after.died(1, 260, 'exited with its manager', true);
    after.line({ ev: 'exit', pid: 1, t: 200, code: 0 });
    expect(after.events.at(-1)).toMatchObject({ ev: 'died', pid: 1, t: 200 });
    expect(after.crashes).toEqual([]);
  });

  it('records a hang as expected, and whether the worker was stopped by us then', () => {
    const recorder = new Recorder();
    recorder.spawned(1, 0);
    recorder.spawned(2, 1);
    recorder.hold(1, true);
    recorder.hung(1, 500, 50, 4100);
    recorder.hung(2, 600, 50, 4100);
    recorder.died(2, 610, 'SIGKILL');
    expect(recorder.hangs.map((h) => [h.pid, h.held])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(recorder.crashes).toEqual([]);
  });
});
