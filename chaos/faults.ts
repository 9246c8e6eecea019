/**
 * The fault schedule: generated up front from a seed, so a run can be replayed with `--seed`.
 * Only what can be decided in advance is in it (when, which kind, how long, and a number that picks
 * the target among the candidates at that moment); which pid is primary is known only at run time.
 *
 * Kinds come in rounds: each round is a seeded shuffle of every kind, so any run long enough for one
 * round has injected each kind once, and a short run still mixes kinds instead of repeating one.
 */

export type Adapter = 'file' | 'redis' | 'redlock' | 'postgres' | 'mysql' | 'etcd' | 'etcd-cluster' | 'manager' | 'mixed';

/**
 * Durations are shares of a TTL: [min, max). Zero-length kinds are instantaneous (kills, SIGTERM,
 * deletions). With mixed TTLs (fleet.ts) the share is of the primary's own TTL at injection (the
 * largest TTL when there is none, and for the kinds in `OF_LARGEST_TTL`): "shorter / longer than
 * the TTL" is about the lease the fault hits. The schedule plans room for the largest TTL.
 */
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
  // The primary's event loop blocked past its TTL (by 0.4 TTL at least, as the lease may have been
  // renewed up to 0.4 TTL before), so a follower takes over; once the old primary runs again, the
  // new one is SIGKILLed: its crash failover must stay fast. Measured from the kill. At most 1.8 ×
  // the primary's TTL: below the manager's heartbeat timeout (2 × the largest), so it is not "hung".
  'expire-then-kill': [1.4, 1.8],
  // The wall clock stepped by ±10–15 s (an NTP step, a VM resume) and held this long, then stepped
  // back. Only the wall clock: the monotonic clock the leases run on does not move.
  'clock-step-primary': [1, 2],
  'clock-step-follower': [1, 2],
  'clock-step-all': [1, 2],
} as const;

/** What the connection-bound Redis adapters share: the server cuts the holder's connection. */
const CONNECTION_KINDS = {
  // CLIENT PAUSE WRITE for this long, then CLIENT KILL of the holder's connection near its end, so
  // a renew is in flight (one starts at most renewInterval × (1 + jitter) = TTL/3 × 1.2 = 0.4 TTL
  // after the last); ioredis resends it on its new connection, answered once the pause ends.
  'reset-in-flight': [0.5, 0.7],
  // The primary busy this long; early in it, the server closes its connection (CLIENT KILL).
  'client-kill-busy-primary': [0.4, 0.8],
} as const;

/**
 * `*-restart-primary-stopped` is two faults at once: the primary is SIGSTOPped, the node(s) holding
 * its lease restart meanwhile (persisted, so the lease survives), and it resumes while its lease
 * is still valid. On the SQL servers the lease's lock (advisory lock, GET_LOCK) is a session's and
 * goes with the restart, while its row says the lease runs on: a follower that takes the free lock
 * at once overlaps a holder that may read `isPrimary` the moment it resumes. Every connection to a restarted node is gone, the paused holder's too, but the
 * holder cannot know until it runs again. `redis-flushall`, `redis-evict`, `redis-empty-restart`
 * and `majority-flushall` lose the lock's state (and its token counter) under a live holder.
 */
const BACKEND_KINDS = {
  file: { 'dir-removed': [0, 0] }, // rm -rf of the lock directory, as a temp cleaner does
  redis: {
    'redis-pause': [0.3, 1.5],
    'redis-kill-restart': [0.1, 1],
    'redis-restart-primary-stopped': [0.4, 0.65],
    ...CONNECTION_KINDS,
    'redis-flushall': [0, 0],
    'redis-evict': [0, 0], // DEL of the lock and its counter, as maxmemory eviction does
    'redis-empty-restart': [0.1, 1], // down this long, then up with its data files deleted
  },
  redlock: {
    'minority-pause': [0.3, 2],
    'minority-kill-restart': [0.3, 2],
    'majority-pause': [0.3, 1.5],
    'majority-kill-restart': [0.1, 1],
    'majority-restart-primary-stopped': [0.4, 0.65],
    ...CONNECTION_KINDS,
    'majority-flushall': [0, 0], // FLUSHALL on every node but one: a majority loses the lock's state
  },
  postgres: {
    'postgres-pause': [0.3, 1.5], // every process of the server SIGSTOPped: sessions open, nothing answers
    'postgres-kill-restart': [0.1, 1], // SIGKILL, down this long, then up with its data (the token row)
    'postgres-restart-primary-stopped': [0.4, 0.65],
    'postgres-terminate-holder': [0, 0], // pg_terminate_backend of the backend holding the advisory lock
  },
  mysql: {
    'mysql-pause': [0.3, 1.5],
    'mysql-kill-restart': [0.1, 1], // InnoDB recovers the token row at start
    'mysql-restart-primary-stopped': [0.4, 0.65],
    'mysql-kill-holder': [0, 0], // KILL CONNECTION of IS_USED_LOCK's connection id
  },
  etcd: {
    'etcd-pause': [0.3, 1.5],
    'etcd-kill-restart': [0.1, 1],
    'etcd-restart-primary-stopped': [0.4, 0.65],
    'etcd-revoke-holder': [0, 0], // the holder's etcd lease revoked from an admin client: its key goes with it
  },
  // Three members: a minority (one) or a majority (two, so no quorum) stopped or killed.
  'etcd-cluster': {
    'minority-pause': [0.3, 2],
    'minority-kill-restart': [0.3, 2],
    'majority-pause': [0.3, 1.5],
    'majority-kill-restart': [0.1, 1],
    'majority-restart-primary-stopped': [0.4, 0.65],
    'etcd-revoke-holder': [0, 0],
  },
} as const;

/** The kinds that end the holder's session (or etcd lease) server-side, as an administrator would. */
export const SESSION_KINDS: ReadonlySet<FaultKind> = new Set(['postgres-terminate-holder', 'mysql-kill-holder', 'etcd-revoke-holder']);

/**
 * Under the manager the long stop stays below the heartbeat timeout (2 × the largest TTL, see
 * manager-main.ts), and a hung stop goes past it, so the manager itself kills and replaces the worker.
 * The manager kinds hit the manager whose worker is primary (another manager when a plain candidate
 * is, see inject-manager.ts), for the manager and the mixed fleet alike.
 */
const MANAGER_KINDS = {
  ...CANDIDATE_KINDS,
  'stop-primary-long': [1.5, 1.8],
  'stop-primary-hung': [2.3, 3],
  // The manager SIGSTOPped past its heartbeat timeout (a VM suspend, a debugger): its primary
  // worker's renews go unanswered, so it steps down at its own deadline, the backend lease runs out,
  // and another process (in the mixed fleet) takes over. On resume it must not kill healthy workers.
  'stop-manager': [2.3, 3],
  // The manager SIGKILLed: its workers exit with it, another process takes over (in the mixed
  // fleet; the managed one has none until the manager is back), and it is restarted 300 ms later.
  'kill-manager': [0, 0],
} as const;

type BackendKinds = typeof BACKEND_KINDS;
export type FaultKind = keyof typeof MANAGER_KINDS | { [A in keyof BackendKinds]: keyof BackendKinds[A] }[keyof BackendKinds];

/** Kinds whose share is of the largest TTL: the hung stop and the manager stop must outlast the heartbeat timeout. */
const OF_LARGEST_TTL: ReadonlySet<FaultKind> = new Set(['stop-primary-hung', 'stop-manager']);

/** The TTL a kind's duration is a share of: the primary's own, or the largest. */
export const ttlBasis = (kind: FaultKind): 'primary' | 'largest' => (OF_LARGEST_TTL.has(kind) ? 'largest' : 'primary');

function table(adapter: Adapter): Record<string, readonly [number, number]> {
  if (adapter === 'manager' || adapter === 'mixed') return MANAGER_KINDS;
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
  /** The duration as a share of the TTL (`ttlBasis`): the injector scales it by that TTL. */
  share: number;
  /** ms: the most it can last (the share of the largest TTL), which the schedule leaves room for. */
  duration: number;
  /** In [0, 1): picks the target among the candidates (or nodes) that qualify at injection time. */
  pick: number;
  /** ms: the wall-clock step of a `clock-step-*` fault, ±10–15 s (0 for other kinds). */
  step: number;
}

export interface ScheduleOptions {
  adapter: Adapter;
  seed: number;
  /** Length of the fault phase in ms; the last fault ends early enough to recover before it ends. */
  length: number;
  /** The base (smallest) TTL: sets the settle time between faults. */
  ttl: number;
  /** The largest TTL in the fleet (default `ttl`): sets the room each fault and the tail get. */
  largestTtl?: number;
  /** Restrict to these kinds (default: every kind of the adapter). */
  kinds?: readonly FaultKind[];
}

/** A step of 10–15 s, backwards or forwards, from one uniform draw. */
export const clockStep = (draw: number): number => (draw < 0.5 ? -1 : 1) * (10_000 + Math.round(((draw * 2) % 1) * 5000));

export function schedule({ adapter, seed, length, ttl, largestTtl = ttl, kinds = kindsFor(adapter) }: ScheduleOptions): PlannedFault[] {
  const random = mulberry32(seed);
  const ranges = table(adapter);
  const faults: PlannedFault[] = [];
  // Room after the last fault for the failover it causes, so the report sees it end.
  const tail = 2 * largestTtl;
  let at = 500 + Math.round(random() * 500);
  let deck: FaultKind[] = [];
  for (;;) {
    if (deck.length === 0) deck = shuffle([...kinds], random);
    const kind = deck.shift() as FaultKind;
    const [min, max] = ranges[kind] as readonly [number, number];
    const share = min + random() * (max - min);
    const duration = Math.round(share * largestTtl);
    const pick = random();
    const draw = random(); // drawn for every kind, so adding a kind does not shift the others' draws
    const step = kind.startsWith('clock-step-') ? clockStep(draw) : 0;
    if (at + duration + tail > length) break;
    faults.push({ at, kind, share, duration, pick, step });
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
