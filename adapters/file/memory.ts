/**
 * What this process has seen of each lock directory. Staleness is judged the way client-go judges
 * a lease: not by comparing a file's mtime with our wall clock (an NTP or VM-resume step, or two
 * hosts whose clocks disagree, would expire a live holder), but by how long, on our own monotonic
 * clock, one version of the state file has stayed unchanged. Every stamp is taken after the look
 * that saw the version returned, so whatever the holder did to make that version came before it.
 *
 * Shared by every file-lock instance of the process: each fact here was observed, so acting on a
 * fact another instance saw first is as safe as acting on one's own.
 */
import type { HolderIdentity } from '../../src/adapter.js';

/** Local monotonic ms. Never the wall clock: nothing that decides expiry may read it. */
export const monotonicNow = (): number => performance.now();

/** A holder we saw at `token`, whose lease (`ttl`) may still run wherever it is. */
export interface SeenHolder {
  readonly token: number;
  readonly ttl: number;
  readonly holder: HolderIdentity;
}

export class LockMemory {
  /** The highest token seen for this lock: no install goes at or below it. */
  floor = 0;
  /** The holder of the newest state seen, until that state is seen released. */
  seen: SeenHolder | null = null;
  /** When the state was first found gone while `seen` could still hold (monotonic ms). */
  vanishedAt: number | null = null;
  vanishWarned = false;
  #version: { key: string; since: number } | null = null;
  #warned = new Set<string>();
  #claims = new Map<string, number>();

  /** True the first time `key` is asked about: for warnings worth giving once, not at every attempt. */
  once(key: string): boolean {
    if (this.#warned.has(key)) return false;
    this.#warned.add(key);
    return true;
  }

  raise(token: number): void {
    if (token > this.floor) this.floor = token;
  }

  /** Notes `key` (a state file's version) as observed at `at`; how long it has been unchanged. */
  unchangedFor(key: string, at: number): number {
    if (this.#version?.key !== key) this.#version = { key, since: at };
    return at - this.#version.since;
  }

  /** Notes the claim files present at `at` (forgetting those gone); how long each has been there. */
  claimAges(claims: readonly string[], at: number): Map<string, number> {
    for (const file of this.#claims.keys()) if (!claims.includes(file)) this.#claims.delete(file);
    const ages = new Map<string, number>();
    for (const file of claims) {
      const since = this.#claims.get(file) ?? at;
      this.#claims.set(file, since);
      ages.set(file, at - since);
    }
    return ages;
  }

  /** Notes a state at `token` found at `at`: below the holder seen, that holder's state is lost. */
  sawState(token: number, at: number): void {
    this.raise(token);
    if (this.seen && token < this.seen.token) this.vanishedAt ??= at;
  }

  sawHolder(token: number, ttl: number, holder: HolderIdentity, at: number): void {
    this.raise(token);
    // A lower token (state lost, then started over by someone without our history) does not
    // replace a holder whose lease may still run: that lease is what a takeover must wait out.
    if (this.seen && token < this.seen.token && (this.vanishedAt === null || at - this.vanishedAt <= this.seen.ttl)) return;
    this.seen = { token, ttl, holder };
    this.vanishedAt = null;
    this.vanishWarned = false;
  }

  sawRelease(token: number): void {
    this.raise(token);
    if (this.seen && token >= this.seen.token) this.forgetHolder();
  }

  forgetHolder(): void {
    this.seen = null;
    this.vanishedAt = null;
    this.vanishWarned = false;
  }
}

const memories = new Map<string, LockMemory>();

/** The memory of the lock directory `dir` (an absolute path). */
export function memoryOf(dir: string): LockMemory {
  let memory = memories.get(dir);
  if (!memory) {
    memory = new LockMemory();
    memories.set(dir, memory);
  }
  return memory;
}
