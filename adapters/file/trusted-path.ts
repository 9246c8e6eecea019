/**
 * Symbolic links on the way to a directory, judged by who could have made them. A link of root's
 * or of our own is the system's layout or our choice (/tmp → /private/tmp, /var/run → /run); one of
 * another user's points wherever that user likes, at any moment: at a directory of ours, so that we
 * would write there, or as root at any directory at all.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { describeOwner } from '../../src/adapter-kit.js';

/** Linux gives up resolving after 40 links (ELOOP); so do we. */
const MAX_LINKS = 40;

/**
 * The first symbolic link met while resolving `path` that belongs to neither root nor this process's
 * user, described (path, target, owner); null if there is none. Components that do not exist end the
 * walk: whatever is created there later is created by us.
 */
export function untrustedLink(path: string): string | null {
  const euid = process.geteuid?.();
  if (euid === undefined) return null; // Windows: no owners to judge by
  let pending = resolve(path).split(sep).filter(Boolean);
  let at: string = sep; // always a real path: links met are expanded into `pending`
  for (let links = 0; pending.length > 0; ) {
    const next = join(at, pending.shift() as string);
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(next);
    } catch {
      return null;
    }
    if (!stats.isSymbolicLink()) {
      at = next;
      continue;
    }
    const target = readlinkSync(next);
    if (stats.uid !== 0 && stats.uid !== euid)
      return `${next} is a symbolic link (to ${target}) owned by ${describeOwner(stats.uid)}, who can point it anywhere`;
    if (++links > MAX_LINKS) return `${path} goes through more than ${MAX_LINKS} symbolic links`;
    pending = [...target.split(sep).filter(Boolean), ...pending];
    if (isAbsolute(target)) at = sep;
  }
  return null;
}
