/**
 * Which TCP connections belong to which process (Linux): a process's fds name socket inodes
 * (/proc/<pid>/fd → `socket:[inode]`) and /proc/net/tcp{,6} maps inodes to local addresses. The
 * idle-follower count uses it to tell the holder's Redis connections from the followers'.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Local ports of `pid`'s TCP connections to one of `remotePorts` (on any address). */
export function connectionPorts(pid: number, remotePorts: readonly number[]): Set<number> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set();
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1] as string);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (!local || !remote || !inode || !inodes.has(inode)) continue;
      const remotePort = Number.parseInt(remote.split(':')[1] ?? '', 16);
      if (remotePorts.includes(remotePort)) ports.add(Number.parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
