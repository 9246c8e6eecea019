import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { procStatFields } from './_internal/proc-stat.js';
import type { HolderIdentity } from './adapter.js';
import { VERSION } from './version.js';

/** Facts about this process that do not change while it runs; read once. */
interface ProcessFacts {
  hostname: string;
  processStartedAt: number;
  procStartTicks?: number;
  bootId?: string;
  pidNamespace?: string;
}

let cached: ProcessFacts | undefined;

function processFacts(): ProcessFacts {
  if (cached) return cached;
  const facts: ProcessFacts = {
    hostname: hostname(),
    processStartedAt: Math.round(Date.now() - process.uptime() * 1000),
  };
  const ticks = procStartTicks(process.pid);
  if (ticks !== undefined) facts.procStartTicks = ticks;
  const boot = readOptional('/proc/sys/kernel/random/boot_id');
  if (boot) facts.bootId = boot;
  const ns = readLinkOptional('/proc/self/ns/pid');
  if (ns) facts.pidNamespace = ns;
  cached = facts;
  return facts;
}

/**
 * A fresh identity for one election: process facts plus a unique id. `label` (the `identity`
 * option) is only shown to people: two processes started with one pod name must still never read
 * each other's lease as their own, so the id compared by adapters is always new.
 */
export function createHolderIdentity(label?: string): HolderIdentity {
  const identity = { id: randomUUID(), pid: process.pid, ...processFacts(), version: VERSION };
  return label === undefined ? identity : { ...identity, label };
}

/**
 * Linux: field 22 of /proc/<pid>/stat, the start time in clock ticks since boot. Two processes
 * that reuse a pid never share it, so a record naming (pid, ticks) identifies one process.
 */
export function procStartTicks(pid: number): number | undefined {
  const ticks = Number(procStatFields(pid)?.[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/**
 * Whether the process a record names is certainly dead. Only answers for a holder on this host and
 * in this pid namespace; anywhere else it returns `null` (unknown) and callers fall back to expiry.
 */
export function isHolderDead(holder: HolderIdentity): boolean | null {
  const here = processFacts();
  if (holder.hostname !== here.hostname) return null;
  if (holder.bootId !== here.bootId || holder.pidNamespace !== here.pidNamespace) return null;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return true;
    if (code !== 'EPERM') return null; // EPERM: alive, owned by another user.
  }
  const fields = procStatFields(holder.pid);
  if (!fields) return false;
  // A killed process stays a zombie until its parent reaps it: dead for our purposes.
  if (fields[0] === 'Z' || fields[0] === 'X') return true;
  // The pid is alive but belongs to a different process: the holder died and its pid was reused.
  return holder.procStartTicks !== undefined && Number(fields[19]) !== holder.procStartTicks;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readLinkOptional(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
