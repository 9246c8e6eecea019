/**
 * Where a holder's beacon (beacon.ts) listens: a Unix socket file `.beacon-<token>` inside the lock
 * directory. Connecting to a socket file takes search permission on the directories above it, so
 * the lock directory's own permissions (0700 private, 02770 shared) decide who may connect: other
 * local users cannot even reach it. (An abstract socket has no permissions, and its name is listed
 * to every user in /proc/net/unix, however secret its derivation: anyone could connect and take
 * the holder's file descriptors.)
 *
 * One file per lease, because closing a listening socket unlinks its path (libuv): a former holder
 * that gives its beacon up late removes its own file, never its successor's. The holder of a token
 * removes the files of the tokens before it: their holders crashed, or are no longer holders.
 */
import { constants } from 'node:fs';
import { chmod, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** sun_path holds 108 bytes on Linux, the terminating NUL included; a longer path cannot be bound. */
const SUN_PATH_MAX = 107;
const BEACON_FILE = /^\.beacon-(\d{1,16})$/;
/** The key that named the abstract beacon of earlier versions; nothing reads it any more. */
const OLD_KEY_FILE = '.beacon-key';
/** Linux's O_PATH (the same on every architecture Node supports there): names a file without opening it. */
const O_PATH = 0o10000000;

/** The socket path of the beacon of lease `token` in `lockDir`, or null when it is too long to bind (then followers poll). */
export function beaconPath(lockDir: string, token: number): string | null {
  const path = join(lockDir, `.beacon-${token}`);
  return Buffer.byteLength(path) <= SUN_PATH_MAX ? path : null;
}

/** Removes the beacon files of the leases before `token`: for the holder of `token` only. */
export async function removeStaleBeacons(lockDir: string, token: number): Promise<void> {
  const names = await readdir(lockDir).catch(() => [] as string[]);
  const stale = names.filter((name) => name === OLD_KEY_FILE || Number(BEACON_FILE.exec(name)?.[1] ?? Number.POSITIVE_INFINITY) < token);
  await Promise.all(stale.map((name) => unlink(join(lockDir, name)).catch(() => undefined)));
}

/**
 * Gives the socket file we just bound at `path` its mode (the umask decided it, and followers of a
 * shared directory need group write to connect). Not through chmod(path): in a directory a group
 * shares, another member could have put a link to one of our files there since the bind. Through
 * a descriptor of the file itself, checked to be a socket of ours. False if it could not be done.
 */
export async function setSocketMode(path: string, mode: number): Promise<boolean> {
  const handle = await open(path, O_PATH | constants.O_NOFOLLOW).catch(() => null);
  if (handle === null) return false;
  try {
    const stats = await handle.stat();
    if (!stats.isSocket() || stats.uid !== process.geteuid?.()) return false;
    await chmod(`/proc/self/fd/${handle.fd}`, mode);
    return true;
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}
