/**
 * Names whose advisory keys collide. A lock's key is `(namespace, 32-bit hash of its name)`, so two
 * names may hash alike (among some 77 000 names, one pair is likely): PostgreSQL then sees one
 * lock, and while one name is held the other waits. Safe (each name keeps its own row and token,
 * and a follower never ends a session its row does not name), but a liveness surprise: said once
 * per spell through the elector's warn.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { sharesKey } from './acquire.js';
import { type LockKeys, lockKeys } from './keys.js';
import type { Session } from './session.js';

export class Collisions {
  /** Per name, the colliding name last warned about. */
  readonly #said = new Map<string, string>();

  /** A lost round found our key held, and `heldAs` (if any) is the name whose row names its holder. */
  lost(keys: LockKeys, heldAs: string | null, context: AdapterCallContext | undefined): void {
    if (heldAs === null) {
      this.#said.delete(keys.name);
      return;
    }
    if (this.#said.get(keys.name) === heldAs) return;
    this.#said.set(keys.name, heldAs);
    context?.warn?.(collisionWarning(keys.name, [heldAs]));
  }

  /** We were granted `keys` on a session that holds a colliding name already (advisory locks are re-entrant). */
  granted(session: Session, keys: LockKeys, context: AdapterCallContext | undefined): void {
    if (!sharesKey(session, keys)) return;
    const others = [...session.held.keys()].filter((other) => other !== keys.name && lockKeys(keys.namespace, other).key === keys.key);
    context?.warn?.(collisionWarning(keys.name, others));
  }
}

/** What a collision of `name` with `others` is, and what to do about it. */
export function collisionWarning(name: string, others: readonly string[]): string {
  const list = others.map((other) => JSON.stringify(other)).join(', ');
  return `[primacy] [postgres] lock "${name}" shares its advisory key with ${list} (their names' 32-bit hashes are equal): PostgreSQL sees one lock, so while one is held the other waits. Rename one, or give it another namespace`;
}
