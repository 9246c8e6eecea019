/** Faults done to candidate processes: SIGKILL, SIGTERM, SIGSTOP, a blocked event loop. */

import { hostNow } from '../harness/clock.js';
import type { Hit } from './hit.js';
import type { Member } from './recorder.js';

/** `kill-*`, `restart-*`, `stop-*`, `busy-*` on the primary or on a follower. */
export async function candidateFault(hit: Hit): Promise<void> {
  const { fleet, recorder } = hit.deps;
  const { kind } = hit;
  const onPrimary = kind.includes('-primary');
  const current = onPrimary ? await hit.primary() : recorder.primary();
  const followers = recorder.targets().filter((m) => m !== current);
  const target = onPrimary ? current : followers[Math.floor(hit.fault.pick * followers.length)];
  if (!target) return hit.skip(`no ${onPrimary ? 'primary' : 'follower'} to hit`);
  const duration = kind.startsWith('kill-') || kind.startsWith('restart-') ? 0 : hit.duration(current);
  hit.say(`pid ${target.pid}`, duration);
  const at = hostNow();
  if (kind.startsWith('kill-')) fleet.kill(target.pid);
  else if (kind.startsWith('restart-')) fleet.terminate(target.pid);
  else if (kind.startsWith('busy-')) {
    fleet.busy(target.pid, duration);
    await hit.sleep(duration);
  } else {
    fleet.stop(target.pid);
    await hit.sleep(duration);
    fleet.resume(target.pid);
    recorder.paused({ pid: target.pid, from: at, to: hostNow(), cause: 'stop' });
  }
  const instant = kind.startsWith('kill-') || kind.startsWith('restart-');
  hit.record({ at, end: instant ? at : hostNow(), target: `pid ${target.pid}` }, current?.pid ?? null);
}

/**
 * `expire-then-kill`: the primary's event loop blocked past its TTL, so a follower takes over; once
 * the old primary runs again (and has stepped down), the new one is SIGKILLed. The failover table
 * measures from the kill (`recoverFrom`): the crash takeover must stay fast (a same-host holder's
 * death is seen at once), the old primary's lapsed lease must not slow it.
 */
export async function expireThenKill(hit: Hit): Promise<void> {
  const { fleet, recorder, largestTtl } = hit.deps;
  const old = await hit.primary();
  if (!old) return hit.skip('no primary to hit');
  const duration = hit.duration(old);
  hit.say(`pid ${old.pid} (busy)`, duration);
  const busyFrom = hostNow();
  fleet.busy(old.pid, duration);
  await hit.sleep(duration);
  // The old primary reports its busy span when it runs again; then give it a moment to step down.
  const until = busyFrom + duration + largestTtl;
  let next: Member | undefined;
  while (hostNow() < until) {
    next = recorder.primary();
    if (!old.held && next && next !== old && next.alive) break;
    await hit.sleep(10);
  }
  if (!next || next === old || !next.alive) return hit.skip(`no other primary after pid ${old.pid} was busy past its TTL`);
  await hit.sleep(100);
  const target = recorder.primary();
  if (target !== next || !target.alive) return hit.skip('the new primary changed before the kill');
  hit.say(`pid ${target.pid} (new primary, after pid ${old.pid} expired)`);
  const kill = hostNow();
  fleet.kill(target.pid);
  const what = `pid ${old.pid} busy ${duration} ms, then new primary pid ${target.pid} killed`;
  hit.record({ at: busyFrom, end: kill, recoverFrom: kill, target: what }, old.pid);
}
