/**
 * Which processes listen on a Unix socket (Linux, from /proc): the listening socket's inode from
 * /proc/net/unix, then the pids whose file descriptors point at it. Abstract addresses start with
 * a NUL, which /proc shows as '@'.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function listeningPids(address: string, candidates: readonly number[]): number[] {
  const path = address.replace(/^\0/, '@');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 (__SO_ACCEPTCON) marks a listener.
    const fields = line.trim().split(/\s+/);
    // Node binds abstract addresses with the whole sun_path, so the name is padded with NULs ('@').
    const named = fields[7]?.startsWith(path) && /^@*$/.test(fields[7].slice(path.length));
    if (named && (Number.parseInt(fields[3] ?? '0', 16) & 0x10000) !== 0) inodes.add(fields[6] as string);
  }
  return candidates.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        const target = tryReadlink(`/proc/${pid}/fd/${fd}`);
        return target !== undefined && inodes.has(target.slice('socket:['.length, -1));
      });
    } catch {
      return false; // the process is gone
    }
  });
}

function tryReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
