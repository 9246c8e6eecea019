/**
 * The keys of one lock, under the lock's prefix (`primacy/` by default), each a path segment after
 * the name so no name's key can be another's:
 *
 * - `<prefix><name>/lock`: the holder's record, attached to the holder's etcd lease;
 * - `<prefix><name>/token`: never attached to a lease, written in every acquire: its mod revision
 *   plus its value (the base, "0" unless etcd once lost its data) is the current fencing token;
 * - `<prefix><name>/outcome`: the last `runOnce` outcome.
 */
export interface LockKeys {
  /** For `watch()`, which applies the client's namespace itself. */
  readonly lockName: string;
  /** As sent in raw requests: with the client's namespace prefix. */
  readonly lock: Buffer;
  readonly token: Buffer;
  readonly outcome: Buffer;
}

export function lockKeys(namespace: Buffer, prefix: string, name: string): LockKeys {
  const at = (suffix: string) => Buffer.concat([namespace, Buffer.from(`${prefix}${name}/${suffix}`)]);
  return { lockName: `${prefix}${name}/lock`, lock: at('lock'), token: at('token'), outcome: at('outcome') };
}
