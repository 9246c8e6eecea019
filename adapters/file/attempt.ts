/**
 * One acquire attempt on a lock directory (the protocol is in state.ts): look at it, then take the
 * lock (free, released, or held by a holder found dead, stale or corrupt), recover a claim abandoned
 * mid-transition, wait (a live holder, an unreadable state file, a vanished state whose holder may
 * still run), or look again (the state changed between two of our looks).
 */
import { join } from 'node:path';
import type { AdapterCallContext, HolderIdentity, Lease } from '../../src/adapter.js';
import { abandonedClaim, judgeHeld, observeInstalled, renewedSince, takeoverWarning, unreadableWarning, type Verdict } from './judge.js';
import { type LockMemory, memoryOf, monotonicNow } from './memory.js';
import { claim, claimToken, createGenesis, genesis, removeLeftovers, renameIfPresent, type StateFile, scan } from './state.js';
import { installClaimed } from './transition.js';
import { mustWaitAfterVanish } from './vanish.js';

/** What a candidate asks of the lock directory `dir`; `start` is wall-clock ms, recorded for display only. */
export interface AcquireRequest {
  readonly dir: string;
  readonly name: string;
  readonly holder: HolderIdentity;
  readonly ttl: number;
  readonly start: number;
  readonly context?: AdapterCallContext | undefined;
}

/**
 * What an attempt came to: the lock; someone to wait for (the holder and the token of the beacon to
 * follow, each null when not known now); or a state that changed under us, worth another look.
 */
export type Attempt =
  | { readonly kind: 'granted'; readonly lease: Lease }
  | { readonly kind: 'wait'; readonly holder: HolderIdentity | null; readonly token: number | null }
  | { readonly kind: 'look-again' };

/** One look at the directory: the request, what this process remembers of it, and when the look returned (monotonic ms). */
interface Look extends AcquireRequest {
  readonly memory: LockMemory;
  readonly at: number;
}

const LOOK_AGAIN: Attempt = { kind: 'look-again' };

function waitFor(holder: HolderIdentity | null, token: number | null = null): Attempt {
  return { kind: 'wait', holder, token };
}

export async function attemptAcquire(request: AcquireRequest): Promise<Attempt> {
  const { dir } = request;
  const memory = memoryOf(dir);
  const { current: found, leftovers, claims } = await scan(dir);
  const look: Look = { ...request, memory, at: monotonicNow() }; // after the look: whatever it saw happened before
  // Every token in sight raises the floor under the next one.
  for (const state of leftovers) memory.raise(state.token);
  if (found) memory.sawState(found.token, look.at);
  for (const file of claims) memory.raise(claimToken(file) ?? 0);
  if (leftovers.length > 0 || (found && claims.length > 0)) await removeLeftovers(dir, found, leftovers, claims);
  if (found === null && claims.length > 0) return recoverClaim(look, claims);
  if (found === null && mustWaitAfterVanish(look, 0)) return waitFor(null);
  if (found === null) await createGenesis(dir);
  return contest(look, found ?? genesis);
}

/** The state file `current`: a held one is judged first; the lock is taken unless its holder is to be waited for. */
async function contest(look: Look, current: StateFile): Promise<Attempt> {
  let verdict: Verdict | null = null;
  if (current.state === 'held') {
    verdict = await judgeHeld(look.dir, current, look.holder, look.memory, look.ttl);
    if (verdict.kind === 'vanished') return LOOK_AGAIN;
    if (verdict.kind === 'live') return waitFor(verdict.holder, current.token);
    if (verdict.kind === 'unreadable') {
      if (look.memory.once(`unreadable:${current.file}`))
        look.context?.warn?.(unreadableWarning(look.dir, current.file, verdict.why, look.ttl));
      return waitFor(null, current.token);
    }
  } else look.memory.sawRelease(current.token);
  if (mustWaitAfterVanish(look, current.token)) return waitFor(null);
  return takeOver(look, current, verdict);
}

/** Claims `current` (free, or held by a holder judged `verdict`) and installs the next token from the claim. */
async function takeOver(look: Look, current: StateFile, verdict: Verdict | null): Promise<Attempt> {
  const { dir } = look;
  const claimed = await claim(dir, current.file, current.token);
  if (!claimed) return LOOK_AGAIN;
  if (verdict?.kind === 'stale' && (await renewedSince(join(dir, claimed), verdict.mtimeNs))) {
    // The holder renewed between our look and our claim: it is alive, give its file back.
    await renameIfPresent(join(dir, claimed), join(dir, current.file));
    return waitFor(null, current.token);
  }
  const warning = takeoverWarning(dir, current.file, current.token, verdict);
  if (warning !== null) look.context?.warn?.(warning);
  return install(look, claimed, current.token);
}

/** No state file, only claims: follow the transition in progress, or recover it once abandoned. */
async function recoverClaim(look: Look, claims: readonly string[]): Promise<Attempt> {
  const stuck = await abandonedClaim(look.dir, claims, look.ttl, look.memory, look.at);
  if (!stuck || mustWaitAfterVanish(look, stuck.token)) return waitFor(null);
  // Skip a token: the stalled claimant may still install the one after it (and then back out).
  const claimed = await claim(look.dir, stuck.file, stuck.token + 1);
  if (!claimed) return LOOK_AGAIN;
  look.context?.warn?.(`[primacy] [file] recovered an abandoned claim in ${look.dir}`);
  return install(look, claimed, stuck.token + 1);
}

/** Installs the next token above `previous` (and above any token seen here) from our claim. */
async function install(look: Look, claimed: string, previous: number): Promise<Attempt> {
  const { dir, name, holder, ttl, start, memory } = look;
  const token = Math.max(previous, memory.floor) + 1;
  // A token the next scan could not read back would make the lock look free.
  if (!Number.isSafeInteger(token))
    throw new Error(`token ${token} is beyond Number.MAX_SAFE_INTEGER: remove the lock directory's foreign state files`);
  const outcome = await installClaimed(dir, { v: 1, name, token, holder, acquiredAt: start, ttl, claim: claimed }, claimed);
  if (outcome === 'taken') return LOOK_AGAIN;
  if (outcome === 'lost') return waitFor(null);
  memory.sawHolder(token, ttl, holder, monotonicNow());
  await observeInstalled(dir, `${token}.held`, memory).catch(() => undefined);
  return { kind: 'granted', lease: { name, token, holder, acquiredAt: start, renewedAt: start, ttl, data: { dir } } };
}
