/**
 * State loss is not a release (README, "Safety, exactly"). A temp cleaner that deletes the lock
 * directory, or a restore that puts back an older state, removes the file a live holder renews; that holder only
 * notices at its next renew and meanwhile still reads isPrimary true. So a candidate that saw a
 * holder waits, before taking over a state older than that holder's, until the holder's lease
 * could have ended: its TTL, counted on our monotonic clock from when we first found the state
 * gone (its last renew was before that). Only a holder certainly dead on this host is not waited for.
 */
import type { AdapterCallContext, HolderIdentity } from '../../src/adapter.js';
import { isHolderDead } from '../../src/adapter-kit.js';
import type { LockMemory } from './memory.js';

/** A candidate's look at the lock directory `dir`: who looks, what it remembers of `dir`, and when the look returned (monotonic ms). */
export interface VanishLook {
  readonly dir: string;
  readonly holder: HolderIdentity;
  readonly memory: LockMemory;
  readonly at: number;
  readonly context?: AdapterCallContext | undefined;
}

/** Whether the candidate of `look` must wait instead of taking over a state at token `basis` (0: nothing there). */
export function mustWaitAfterVanish(look: VanishLook, basis: number): boolean {
  const { dir, holder, memory, at, context } = look;
  const { seen } = memory;
  if (!seen || basis >= seen.token) return false;
  // The holder whose own state vanished: its renew failed, it has stepped down and knows it.
  if (seen.holder.id === holder.id) return false;
  const who = `lease ${seen.token} of pid ${seen.holder.pid} on ${seen.holder.hostname}`;
  if (isHolderDead(seen.holder) === true) {
    context?.warn?.(`[primacy] [file] the state of ${dir} vanished; ${who} is dead: taking over`);
    memory.forgetHolder();
    return false;
  }
  memory.vanishedAt ??= at;
  const left = seen.ttl - (at - memory.vanishedAt);
  if (left < 0) {
    // Waited out: that lease has ended. Forget it, so the next holder seen is the one protected.
    memory.forgetHolder();
    return false;
  }
  if (!memory.vanishWarned) {
    memory.vanishWarned = true;
    context?.warn?.(
      `[primacy] [file] the state of ${dir} vanished while ${who} may still run: waiting ${Math.ceil(left)} ms (its TTL) before taking over`,
    );
  }
  return true;
}
