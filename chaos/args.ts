/** The chaos CLI's options: parsed strictly, with errors that name the option (exit 64). */
import { parseArgs } from 'node:util';
import { type Adapter, type FaultKind, kindsFor } from './faults.js';

export interface ChaosOptions {
  adapter: Adapter;
  seconds: number;
  candidates: number;
  seed: number;
  /** The base TTL: the smallest in the fleet (see `mixedTtls`). */
  ttl: number;
  /** Candidates alternate TTLs of 1×, 1.5× and 2× `ttl` (the default), or all use `ttl`. */
  mixedTtls: boolean;
  /** The `identity` every candidate is started with, or undefined: each its own (the library's default). */
  identity: string | undefined;
  kinds: FaultKind[] | undefined;
  json: boolean;
  /** Where to write the raw run log (log.ts) as JSON, for a closer look. */
  log: string | undefined;
  help: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const HELP = `Usage: npm run chaos -- [options]

Runs N candidate processes through a seeded fault schedule and checks that at most one of them
acts as primary at a time, with every write fenced by a store that rejects stale tokens.

Options:
  --adapter <name>    file | redis | redlock | postgres | mysql | etcd | etcd-cluster | manager
                      | mixed                                               (default: file)
                      redis, redlock (3 nodes), postgres, mysql (MariaDB), etcd (1 member),
                      etcd-cluster (3 members): private servers the run starts and stops.
                      mixed: two managers (names chaos-a, chaos-b) and plain processes, all
                      with the default lock (in this run's XDG_RUNTIME_DIR), elect one primary
  --seconds <n>       length of the measured fault phase, >= 5             (default: 60)
  --candidates <n>    candidate processes, 2..32 (mixed: 3..32, as 2 × workers + 1 or 2 plain;
                      5 = 2 + 2 + 1)                                       (default: 5)
  --seed <n>          schedule seed, 0..4294967295; same seed + options = same schedule (default: random)
  --ttl <ms>          the base lease TTL, >= 1000: candidates alternate 1×, 1.5× and 2× it (default: 2000)
  --uniform-ttl       every candidate uses --ttl itself
  --identity <label>  the identity option every candidate is started with  (default: chaos-pod)
  --distinct-identities  no shared label: each candidate gets the library's default identity
  --kinds <a,b,...>   only these fault kinds (default: every kind of the adapter; see chaos/RESULTS.md)
  --json              print the report as JSON on stdout (progress goes to stderr)
  --log <file>        also write the raw run log (terms, pauses, faults, every write) as JSON
  -h, --help          show this help

Exit codes: 0 no violation, 1 a violation (each one is printed), 2 the run could not be set up,
64 bad usage, 130 interrupted.`;

const ADAPTERS: readonly Adapter[] = ['file', 'redis', 'redlock', 'postgres', 'mysql', 'etcd', 'etcd-cluster', 'manager', 'mixed'];
/** One label for the whole fleet, as the pods of one deployment (or hosts of one name) share. */
export const DEFAULT_IDENTITY = 'chaos-pod';
/** The TTL factors of a mixed fleet, by slot: a rolling upgrade that changed `ttl` looks like this. */
export const MIXED_TTL_FACTORS: readonly number[] = [1, 1.5, 2];

function integer(option: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`Expected --${option} to be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function parseOptions(argv: readonly string[], randomSeed: () => number): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        adapter: { type: 'string' },
        seconds: { type: 'string' },
        candidates: { type: 'string' },
        seed: { type: 'string' },
        ttl: { type: 'string' },
        kinds: { type: 'string' },
        'uniform-ttl': { type: 'boolean' },
        identity: { type: 'string' },
        'distinct-identities': { type: 'boolean' },
        json: { type: 'boolean' },
        log: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const adapter = (values.adapter ?? 'file') as Adapter;
  if (!ADAPTERS.includes(adapter)) {
    throw new UsageError(`Expected --adapter to be one of ${ADAPTERS.join(', ')}, got ${JSON.stringify(values.adapter)}`);
  }
  const known = kindsFor(adapter);
  let kinds: FaultKind[] | undefined;
  if (typeof values.kinds === 'string') {
    kinds = values.kinds.split(',').map((k) => k.trim()) as FaultKind[];
    const unknown = kinds.filter((k) => !known.includes(k));
    if (unknown.length > 0 || kinds.length === 0) {
      throw new UsageError(
        `Expected --kinds to list fault kinds of the ${adapter} adapter (${known.join(', ')}), got ${JSON.stringify(values.kinds)}`,
      );
    }
  }
  if (values['distinct-identities'] === true && values.identity !== undefined) {
    throw new UsageError('Expected either --identity or --distinct-identities, got both');
  }
  if (values.identity === '') throw new UsageError('Expected --identity to be a non-empty label, got ""');
  return {
    adapter,
    seconds: integer('seconds', values.seconds as string | undefined, 60, 5, 86_400),
    // A mixed fleet needs a worker in each of its two managers and a plain candidate.
    candidates: integer('candidates', values.candidates as string | undefined, 5, adapter === 'mixed' ? 3 : 2, 32),
    seed: integer('seed', values.seed as string | undefined, randomSeed(), 0, 4_294_967_295),
    ttl: integer('ttl', values.ttl as string | undefined, 2000, 1000, 600_000),
    mixedTtls: values['uniform-ttl'] !== true,
    identity: values['distinct-identities'] === true ? undefined : ((values.identity as string | undefined) ?? DEFAULT_IDENTITY),
    kinds,
    json: values.json === true,
    log: values.log as string | undefined,
    help: values.help === true,
  };
}

/** The command that replays a run: the same schedule, given the same options. */
export function replayCommand(o: ChaosOptions): string {
  const kinds = o.kinds ? ` --kinds ${o.kinds.join(',')}` : '';
  const ttls = o.mixedTtls ? '' : ' --uniform-ttl';
  const identity =
    o.identity === undefined
      ? ' --distinct-identities'
      : o.identity === DEFAULT_IDENTITY
        ? ''
        : ` --identity ${JSON.stringify(o.identity)}`;
  return `npm run chaos -- --adapter ${o.adapter} --seconds ${o.seconds} --candidates ${o.candidates} --ttl ${o.ttl}${ttls}${identity} --seed ${o.seed}${kinds}`;
}
