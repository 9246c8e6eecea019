/**
 * Faults done to a manager itself: `stop-manager` (SIGSTOP past its heartbeat timeout, then
 * SIGCONT) and `kill-manager` (SIGKILL; it is restarted like a candidate). They hit the manager
 * whose worker is primary; when a plain candidate is primary (mixed fleet), the manager `pick`
 * chooses, whose workers are all followers: the faults still happen, only their target differs.
 *
 * What a manager SIGSTOP means for its primary worker: the worker keeps running, but its renews go
 * unanswered, so it steps down at its own deadline; the backend lease the arbiter holds for it runs
 * out by TTL (the holder's pid is alive: no crash takeover), and another process takes over. The
 * worker is not paused: an overlap with it is a violation, not a fenced pause. What the manager
 * must not do on resume is kill healthy workers as hung: report.ts's falseHangs judges that.
 */

import { hostNow } from '../harness/clock.js';
import type { Hit } from './hit.js';

export async function managerFault(hit: Hit): Promise<void> {
  const { fleet, recorder } = hit.deps;
  const primary = await hit.primary();
  const managers = fleet.managers().filter((m) => m.targetable);
  const owner = primary ? managers.find((m) => m.owns(primary.pid)) : undefined;
  const target = owner ?? managers[Math.floor(hit.fault.pick * managers.length)];
  const pid = target?.pid;
  if (!target || pid === undefined) return hit.skip('no manager up to hit');
  const whose = owner ? `its worker pid ${primary?.pid} primary` : `its workers followers of pid ${primary?.pid ?? 'none'}`;
  const what = `manager "${target.name}" pid ${pid}, ${whose}`;
  if (hit.kind === 'stop-manager') {
    const duration = hit.duration(primary);
    hit.say(what, duration);
    const at = hostNow();
    target.stop();
    try {
      await hit.sleep(duration);
    } finally {
      target.resume();
    }
    const end = hostNow();
    recorder.paused({ pid, from: at, to: end, cause: 'stop' });
    hit.record({ at, end, target: what }, primary?.pid ?? null);
    return;
  }
  hit.say(what);
  // Without another process campaigning (the managed fleet) nobody can take over before it is back.
  const others = recorder.targets().some((m) => !target.owns(m.pid));
  const at = hostNow();
  // Its workers must be gone within the largest TTL; it resolves once the manager has started again.
  await target.kill();
  hit.record({ at, end: others ? at : hostNow(), target: what }, primary?.pid ?? null);
}
