/**
 * Where a lock lives in PostgreSQL's advisory lock space. The lock itself is the two-int key
 * `(namespace, hash(name))` (`pg_try_advisory_lock(int, int)`, `objsubid = 2` in pg_locks). Two
 * helpers per lock live in the one-bigint space (`objsubid = 1`), which never collides with it:
 * the watcher's seat (exclusive: the one follower that watches the holder) and the follower mark
 * (shared: every waiting follower holds it, so their number can be counted).
 */
import { createHash } from 'node:crypto';

/** A one-bigint advisory key: its value for the lock functions, and how pg_locks shows it. */
export interface BigKey {
  /** The signed 64-bit key, in decimal (pg parses it as bigint). */
  readonly value: string;
  /** pg_locks' `classid` and `objid` (the high and low 32 bits, unsigned), in decimal. */
  readonly classid: string;
  readonly objid: string;
}

export interface LockKeys {
  readonly name: string;
  readonly namespace: number;
  /** The name's 32-bit hash: the second int of the advisory key. */
  readonly key: number;
  readonly seat: BigKey;
  readonly marker: BigKey;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A string namespace as the 32-bit int of the advisory key. */
export function namespaceKey(namespace: string): number {
  return digest(`primacy namespace\0${namespace}`).readInt32BE(0);
}

function bigKey(text: string): BigKey {
  const bytes = digest(text);
  return {
    value: bytes.readBigInt64BE(0).toString(),
    classid: String(bytes.readUInt32BE(0)),
    objid: String(bytes.readUInt32BE(4)),
  };
}

export function lockKeys(namespace: number, name: string): LockKeys {
  return {
    name,
    namespace,
    key: digest(name).readInt32BE(0),
    seat: bigKey(`primacy watcher seat\0${namespace}\0${name}`),
    marker: bigKey(`primacy followers\0${namespace}\0${name}`),
  };
}

/** The first int of every session probe key (see session-probe.ts): a space of its own. */
export const PROBE_SPACE = digest('primacy session probe').readInt32BE(0);

/** The LISTEN/NOTIFY channel of a lock table: one per table, so one LISTEN serves every lock in it. */
export function channelOf(qualifiedTable: string): string {
  return `primacy_${digest(qualifiedTable).toString('hex').slice(0, 12)}`;
}

/** What a notification says: something happened to the lock `(namespace, key)`. */
export function payloadOf(keys: Pick<LockKeys, 'namespace' | 'key'>, event: 'released' | 'free' | 'seat'): string {
  return `${keys.namespace}:${keys.key}:${event}`;
}

export function parsePayload(payload: string | undefined): { namespace: number; key: number } | null {
  const match = /^(-?\d+):(-?\d+):\w+$/.exec(payload ?? '');
  return match ? { namespace: Number(match[1]), key: Number(match[2]) } : null;
}
