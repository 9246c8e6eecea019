/**
 * Idle cost per lock: what one lock costs its server per second while one holder holds it and N
 * followers wait (N = 1, 10, 50, 200), for every network adapter, counted on the server side
 * (bench/counters/*), the holder's own work included and also shown apart. Each election has an
 * adapter of its own (its own connections, as a process of its own would have); the followers are
 * spread over a few processes (200 node processes do not fit the bench's 2 cores).
 *
 * Per level: the holder's process starts first and wins, then the followers' processes; once all
 * are ready they settle (`settleSeconds`: start-up attempts and connections done), then the window
 * (`windowSeconds`) is counted. The window is long because some followers rest for long and in
 * step: MySQL's wait in the server lasts 60 s (followerWait) and etcd's idle retry 30 s, and every
 * follower of a level started within a few seconds, so their re-tries come in waves; a 60 s window
 * holds one whole period and so the true average. Every backend and level runs on servers of its
 * own (server-side counts do not mix); the backends side by side, and the levels in rounds
 * (`IDLE_ROUNDS`): only requests are counted here, not latencies.
 */
import { fileURLToPath } from 'node:url';
import { NETWORK_BACKENDS, type NetworkBackend } from './backend-locks.js';
import { busyShare, cpuSnapshot } from './cpu.js';
import { Field } from './field.js';
import { type IdleRig, startRig, UNITS } from './idle-rigs.js';
import { stopPrivateServers } from './private-servers.js';

/**
 * The follower counts measured, in rounds: the levels of a round side by side (each on servers of
 * its own), the rounds one after another. 1, 10 and 50 followers together load the machine less
 * than 200 alone, and take a third of the time.
 */
export const IDLE_ROUNDS: readonly (readonly number[])[] = [[1, 10, 50], [200]];
export const IDLE_PER_LOCK_IDS: readonly string[] = NETWORK_BACKENDS.map((backend) => `idle-${backend}`);
/** The goal: at most this many per second for one lock, at 200 followers, holder included. */
export const IDLE_GOAL_PER_SEC = 20;
const SETTLE_SECONDS = 10;
const WINDOW_SECONDS = 60;
/** Longest wait for a level's processes to be ready or its holder to win. */
const PATIENCE_MS = 90_000;

export interface IdleLevel {
  followers: number;
  /** Processes the followers were spread over. */
  processes: number;
  seconds: number;
  /** Everything counted for the lock in the window, holder included. */
  total: number;
  /** Of which the holder's own; null where it could not be told apart. */
  holder: number | null;
  perSec: number;
  holderPerSec: number | null;
  /** Per second, largest first. */
  top: Array<{ what: string; perSec: number }>;
  /** Share of the machine's CPU busy during the window, 0–1. */
  cpuBusy: number;
  /** The field changed during the window, errors, counting notes. */
  notes: string[];
}

export interface IdleBackendResult {
  backend: NetworkBackend;
  label: string;
  unit: string;
  nodes: number;
  levels: IdleLevel[];
  /** Set when a level of this backend could not be measured (the others stand). */
  failure?: string;
}

export interface IdlePerLockResult {
  settleSeconds: number;
  windowSeconds: number;
  /** The follower counts of each round, measured side by side (see `IDLE_ROUNDS`). */
  rounds: number[][];
  goalPerSec: number;
  backends: IdleBackendResult[];
}

const script = fileURLToPath(new URL('./contenders/idle-elections.ts', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes for the followers of a level: 1 for 1 or 10, 2 for 50, 4 for 200 (at most 50 elections each). */
function processesFor(followers: number): number {
  return followers <= 10 ? 1 : followers <= 50 ? 2 : Math.ceil(followers / 50);
}

interface Timing {
  settleSeconds: number;
  windowSeconds: number;
}

async function measureLevel(
  backend: NetworkBackend,
  rig: IdleRig,
  followers: number,
  timing: Timing,
  log: (line: string) => void,
): Promise<IdleLevel> {
  const name = `idle-${backend}-${followers}-${Math.random().toString(36).slice(2, 8)}`;
  const processes = processesFor(followers);
  const holders = new Field({ script, args: [backend, name, '1', rig.holderTarget] });
  const waiting = new Field({ script, args: [backend, name, String(Math.ceil(followers / processes)), rig.followerTarget] });
  const counter = rig.counter(() => holders.contenders[0]?.pid ?? 0);
  try {
    const holder = holders.spawn();
    await holders.waitFor('the holder to win', PATIENCE_MS, () => (holder.ready && holder.holding) || undefined);
    for (let i = 0; i < processes; i++) waiting.spawn();
    await waiting.waitFor('the followers to be ready', PATIENCE_MS, () => waiting.live.every((c) => c.ready) || undefined);
    await pause(timing.settleSeconds * 1000);
    const everyone = [...holders.contenders, ...waiting.contenders];
    const seen = new Map(everyone.map((c) => [c, c.events.length]));
    const cpu = cpuSnapshot();
    await counter.begin();
    await pause(timing.windowSeconds * 1000);
    const count = await counter.finish();
    const cpuBusy = busyShare(cpu, cpuSnapshot());
    const notes = [...count.notes];
    const since = (c: (typeof everyone)[number]) => c.events.slice(seen.get(c) ?? 0);
    if (!holder.holding) notes.push('the holder lost the lock during the window');
    if (waiting.contenders.some((c) => since(c).some((e) => e.ev === 'acquired'))) notes.push('a follower won during the window');
    if (everyone.some((c) => c.exit !== null)) notes.push('a process exited during the window');
    const errors = everyone.flatMap((c) => since(c).filter((e) => e.ev === 'error'));
    if (errors.length) notes.push(`${errors.length} error events, first: ${String(errors[0]?.detail ?? '').slice(0, 160)}`);
    const rate = (n: number) => n / count.seconds;
    const level: IdleLevel = {
      followers,
      processes,
      seconds: count.seconds,
      total: count.total,
      holder: count.holder,
      perSec: rate(count.total),
      holderPerSec: count.holder === null ? null : rate(count.holder),
      top: count.by.slice(0, 6).map(({ what, count: n }) => ({ what, perSec: rate(n) })),
      cpuBusy,
      notes,
    };
    log(
      `idle ${backend}, ${followers} follower${followers === 1 ? '' : 's'}: ${level.perSec.toFixed(1)} ${rig.unit}/s per lock` +
        ` (holder ${level.holderPerSec?.toFixed(1) ?? '?'}) over ${count.seconds.toFixed(1)} s${notes.length ? `; ${notes.join('; ')}` : ''}`,
    );
    return level;
  } finally {
    await counter.close();
    await Promise.all([holders.killAll(), waiting.killAll()]);
  }
}

/** One level of one backend on servers of its own: counts never mix with another level's. */
async function measureJob(
  backend: NetworkBackend,
  followers: number,
  timing: Timing,
  log: (line: string) => void,
): Promise<IdleLevel | string> {
  let rig: IdleRig | undefined;
  try {
    rig = await startRig(backend);
    return await measureLevel(backend, rig, followers, timing, log);
  } catch (error) {
    const failure = `${followers} followers: ${error instanceof Error ? error.message : String(error)}`;
    log(`idle ${backend}: failed at ${failure}`);
    return failure;
  } finally {
    await rig?.stop().catch(() => undefined);
  }
}

export async function measureIdlePerLock(options: {
  selected: (id: string) => boolean;
  log: (line: string) => void;
  /** Shorter settings for trying the bench out; the report states what was used. */
  rounds?: readonly (readonly number[])[];
  settleSeconds?: number;
  windowSeconds?: number;
}): Promise<IdlePerLockResult> {
  const { rounds = IDLE_ROUNDS, settleSeconds = SETTLE_SECONDS, windowSeconds = WINDOW_SECONDS, log } = options;
  const backends = NETWORK_BACKENDS.filter((backend) => options.selected(`idle-${backend}`));
  const timing = { settleSeconds, windowSeconds };
  const results = backends.map(
    (backend): IdleBackendResult => ({
      backend,
      label: backend === 'redlock' ? 'primacy redlock (3 nodes)' : `primacy ${backend}`,
      unit: UNITS[backend],
      nodes: backend === 'redlock' ? 3 : 1,
      levels: [],
    }),
  );
  try {
    for (const round of rounds) {
      const jobs = results.flatMap((result) => round.map((followers) => ({ result, followers })));
      const outcomes = await Promise.all(jobs.map(({ result, followers }) => measureJob(result.backend, followers, timing, log)));
      for (const [i, outcome] of outcomes.entries()) {
        const { result } = jobs[i] as (typeof jobs)[number];
        if (typeof outcome === 'string') result.failure = [result.failure, outcome].filter(Boolean).join('; ');
        else result.levels.push(outcome);
      }
    }
    for (const result of results) result.levels.sort((a, b) => a.followers - b.followers);
    return { settleSeconds, windowSeconds, rounds: rounds.map((round) => [...round]), goalPerSec: IDLE_GOAL_PER_SEC, backends: results };
  } finally {
    await stopPrivateServers();
  }
}
