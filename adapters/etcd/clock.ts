/**
 * The clock an etcd lock judges expiry by. etcd leases count whole seconds on the server's clock,
 * which no client can read, and an elector's TTL may be shorter than etcd's smallest lease (2 s by
 * default). So each holder records, with every acquire and renew, when its lease ends on its own
 * monotonic clock (`expiresAt`), and a candidate uses that record only when it reads the very same
 * clock: same boot and same time namespace, so CLOCK_MONOTONIC is one counter for both processes
 * (a wall clock could be stepped; another host's clock is another clock). A candidate on another
 * clock relies on what it saw itself instead (sightings.ts).
 */
import { readFileSync, readlinkSync } from 'node:fs';

/** CLOCK_MONOTONIC in ms (Node's hrtime): one counter for every process of a boot and time namespace. */
export function monoNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

let identity: string | null | undefined;

/**
 * `<boot id>/<time namespace>` (Linux), naming the monotonic clock of this process: two processes
 * with the same identity read the same counter. Null where it cannot be told (no /proc): no record
 * is then trusted across processes.
 */
export function clockIdentity(): string | null {
  if (identity !== undefined) return identity;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    identity = `${boot}/${timeNamespace()}`;
  } catch {
    identity = null;
  }
  return identity;
}

function timeNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/time');
  } catch {
    // A kernel before time namespaces (5.6): one monotonic clock per boot.
    return 'time:[none]';
  }
}
