/**
 * The fault schedule: generated up front from a seed, so a run can be replayed with `--seed`.
 * Only what can be decided in advance is in it (when, which kind, how long, and a number that picks
 * the target among the candidates at that moment); which pid is primary is known only at run time.
 *
 * Kinds come in rounds: each round is a seeded shuffle of every kind, so any run long enough for one
 * round has injected each kind once, and a short run still mixes kinds instead of repeating one.
 */

export type Adapter = 'file' | 'redis' | 'redlock' | 'manager';

/** Durations are shares of the TTL: [min, max). Zero-length kinds are instantaneous (kills, SIGTERM). */
const CANDIDATE_KINDS = {
  'kill-primary': [0, 0],
  'kill-follower': [0, 0],
  'stop-primary-short': [0.2, 0.6], // shorter than the TTL: nobody may take over
  // Longer than the TTL with room to spare: the lease (renewed up to TTL/3 before the stop) lapses and
  // a follower's next poll takes over well before the resume, so the paused holder is fenced.
  'stop-primary-long': [1.5, 2.2],
  'stop-follower': [0.3, 2],
  'restart-primary': [0, 0], // SIGTERM (graceful hand-over), then a new process
  'busy-primary': [0.2, 1.6], // a blocked event loop, sometimes past the TTL
} as const;

/**
 * `*-restart-primary-stopped` is two faults at once: the primary is SIGSTOPped, the node(s) holding
 * its lease restart meanwhile (persisted, so the lease survives), and it resumes while its lease
 * is still valid. Every connection to a restarted node is gone, the paused holder's too, but the
 * holder cannot know until it runs again.
 */
const BACKEND_KINDS = {
  redis: { 'redis-pause': [0.3, 1.5], 'redis-kill-restart': [0.1, 1], 'redis-restart-primary-stopped': [0.4, 0.65] },
  redlock: {
    'minority-pause': [0.3, 2],
    'minority-kill-restart': [0.3, 2],
    'majority-pause': [0.3, 1.5],
    'majority-kill-restart': [0.1, 1],
    'majority-restart-primary-stopped': [0.4, 0.65],
  },
} as const;

/**
 * Under the manager the long stop stays below the heartbeat timeout (2 × TTL, see manager-main.ts),
 * and a hung stop goes past it, so the manager itself kills and replaces the worker.
 */
const MANAGER_KINDS = {
  ...CANDIDATE_KINDS,
  'stop-primary-long': [1.5, 1.8],
  'stop-primary-hung': [2.3, 3],
} as const;

export type FaultKind = keyof typeof MANAGER_KINDS | keyof (typeof BACKEND_KINDS)['redis'] | keyof (typeof BACKEND_KINDS)['redlock'];

function table(adapter: Adapter): Record<string, readonly [number, number]> {
  if (adapter === 'manager') return MANAGER_KINDS;
  if (adapter === 'file') return CANDIDATE_KINDS;
  return { ...CANDIDATE_KINDS, ...BACKEND_KINDS[adapter] };
}

/** Every fault kind the adapter supports, in a fixed order. */
export function kindsFor(adapter: Adapter): FaultKind[] {
  return Object.keys(table(adapter)) as FaultKind[];
}

/** Kinds that hit a follower or a minority of nodes: they must not interrupt the primary at all. */
export const isHarmlessKind = (kind: FaultKind): boolean => kind.endsWith('-follower') || kind.startsWith('minority-');

/** mulberry32: a tiny, well-distributed 32-bit PRNG; the same seed gives the same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedFault {
  /** ms after the fault phase starts. */
  at: number;
  kind: FaultKind;
  /** ms: how long the process or node stays stopped / down / busy (0 for kills and restarts). */
  duration: number;
  /** In [0, 1): picks the target among the candidates (or nodes) that qualify at injection time. */
  pick: number;
}

export interface ScheduleOptions {
  adapter: Adapter;
  seed: number;
  /** Length of the fault phase in ms; the last fault ends early enough to recover before it ends. */
  length: number;
  ttl: number;
  /** Restrict to these kinds (default: every kind of the adapter). */
  kinds?: readonly FaultKind[];
}

export function schedule({ adapter, seed, length, ttl, kinds = kindsFor(adapter) }: ScheduleOptions): PlannedFault[] {
  const random = mulberry32(seed);
  const ranges = table(adapter);
  const faults: PlannedFault[] = [];
  // Room after the last fault for the failover it causes, so the report sees it end.
  const tail = 2 * ttl;
  let at = 500 + Math.round(random() * 500);
  let deck: FaultKind[] = [];
  for (;;) {
    if (deck.length === 0) deck = shuffle([...kinds], random);
    const kind = deck.shift() as FaultKind;
    const [min, max] = ranges[kind] as readonly [number, number];
    const duration = Math.round((min + random() * (max - min)) * ttl);
    const pick = random();
    if (at + duration + tail > length) break;
    faults.push({ at, kind, duration, pick });
    // Settle time: the cluster recovers and a respawned candidate starts before the next fault.
    at += duration + Math.round(ttl * (0.5 + random() * 0.5)) + 500;
  }
  return faults;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
