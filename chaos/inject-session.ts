/**
 * `postgres-terminate-holder`, `mysql-kill-holder`, `etcd-revoke-holder`: the server ends the
 * running primary's session (etcd: its lease) at an administrator's word, while the primary's
 * process goes on. The holder must step down at once (its connection closed, its key deleted) and
 * a follower take over; a holder that does not see it before a follower is elected is an overlap.
 * The backend checks that the lock's record on the server still names the primary (pid and
 * token) before it ends anything.
 */
import { hostNow } from '../harness/clock.js';
import type { Hit } from './hit.js';

export async function endHolderSession(hit: Hit): Promise<void> {
  const { backend, recorder, lockName } = hit.deps;
  const primary = await hit.primary();
  const token = primary ? recorder.tokenOf(primary.pid) : undefined;
  if (!primary || token === undefined) return hit.skip('no primary to hit');
  const at = hostNow();
  const what = await backend.endHolder(lockName, { pid: primary.pid, token });
  if (what === null) return hit.skip(`the server names no session of pid ${primary.pid} with token ${token} as the lock's holder`);
  hit.say(what);
  hit.record({ at, end: at, target: what }, primary.pid);
}
