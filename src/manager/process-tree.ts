/**
 * SIGKILL for a worker and everything it started. Cluster workers cannot lead their own process
 * group, so on Linux the descendants are found through /proc (each process's parent pid) and
 * killed with it; a worker's stray children must not outlive an escalation. Elsewhere: the pid only.
 */
import { readdirSync } from 'node:fs';
import { procStatFields } from '../_internal/proc-stat.js';

function parentOf(pid: string): string | null {
  return procStatFields(pid)?.[1] ?? null;
}

/** Every descendant of `root` (children first found, deepest last). */
export function descendants(root: number): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children = new Map<string, string[]>();
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (parent) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [String(root)];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as string) ?? []) {
      found.push(Number(child));
      queue.push(child);
    }
  }
  return found;
}

/** SIGKILLs `pid` and its descendants (collected first, so none is reparented away meanwhile). */
export function killTree(pid: number): void {
  const tree = descendants(pid);
  for (const target of [pid, ...tree]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
