/**
 * The Redis side of `npm run bench`: primacy's `redisLock` and `redlockLock` against raw ioredis,
 * redlock and redis-semaphore, on private redis-server processes this module starts (loopback,
 * `--save "" --appendonly no`) and always stops: failover and hand-over, uncontended throughput,
 * 4-process contention, and what an idle follower costs the server.
 */
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '../test/helpers/redis-server.js';
import { type ContenderRun, type Kind, measureKind } from './failover.js';
import { type IdleResult, measureIdle } from './idle.js';
import { type ContentionResult, measureContention, measureRedisOps, type OpsRun, type RedisLibrary } from './redis-ops.js';

export const REDIS_FAILOVER_IDS = ['primacy-redis', 'primacy-redlock', 'ioredis', 'redlock', 'redis-semaphore'] as const;
export const REDIS_PART_IDS = [...REDIS_FAILOVER_IDS, 'redis-ops', 'redis-contention', 'redis-idle'] as const;

export interface IdleRun {
  label: string;
  nodes: number;
  result: IdleResult;
}

export interface RedisPartResult {
  /** Failover and hand-over; the first two are primacy's (redis, then redlock), when selected. */
  runs: ContenderRun[];
  ops: OpsRun | null;
  contention: ContentionResult[] | null;
  idle: IdleRun[] | null;
}

const TTL = 10_000;
const contenderScript = (file: string) => fileURLToPath(new URL(`./contenders/${file}`, import.meta.url));

interface RedisKind extends Kind {
  /** 1: the first node; 3: the quorum. */
  nodes: 1 | 3;
}

function redisKinds(one: string, three: readonly string[]): RedisKind[] {
  const quorum = three.join(',');
  return [
    {
      id: 'primacy-redis',
      label: 'primacy redis',
      settings: 'defaults: ttl 10000, retry 1000 ms, liveness check 150 ms',
      nodes: 1,
      spec: (_dir, phase) => ({ script: contenderScript('primacy-redis.ts'), args: [phase, one] }),
      patienceMs: 45_000,
    },
    {
      id: 'primacy-redlock',
      label: 'primacy redlock (3 nodes)',
      settings: 'defaults: ttl 10000, retry 1000 ms, liveness check 150 ms',
      nodes: 3,
      spec: (_dir, phase) => ({ script: contenderScript('primacy-redlock.ts'), args: [phase, quorum] }),
      patienceMs: 45_000,
    },
    {
      id: 'ioredis',
      label: 'ioredis SET NX PX + Lua',
      settings: `ttl ${TTL}, poll 1000 ms, renew every ttl/3`,
      nodes: 1,
      spec: (_dir, phase) => ({ script: contenderScript('ioredis.ts'), args: [phase, one, String(TTL), '1000'] }),
      patienceMs: 3 * TTL + 15_000,
    },
    {
      id: 'redlock',
      label: 'redlock (3 nodes)',
      settings: `defaults: retryCount 10, retryDelay 200 ± 100 ms; ttl ${TTL}, extend every ttl/3`,
      nodes: 3,
      spec: (_dir, phase) => ({ script: contenderScript('redlock.ts'), args: [phase, String(TTL), quorum] }),
      patienceMs: 3 * TTL + 15_000,
    },
    {
      id: 'redis-semaphore',
      label: 'redis-semaphore Mutex',
      settings: `defaults: retryInterval 10 ms, acquireTimeout 10 s, refresh every 0.8 × ttl; ttl ${TTL}`,
      nodes: 1,
      spec: (_dir, phase) => ({ script: contenderScript('redis-semaphore.ts'), args: [phase, String(TTL), one] }),
      patienceMs: 3 * TTL + 15_000,
    },
  ];
}

function libraries(one: string, three: readonly string[]): RedisLibrary[] {
  return [
    { label: 'primacy redis', kind: 'primacy-redis', urls: [one] },
    { label: 'ioredis SET NX PX + Lua', kind: 'ioredis', urls: [one] },
    { label: 'redlock (1 node)', kind: 'redlock', urls: [one] },
    { label: 'redis-semaphore Mutex', kind: 'redis-semaphore', urls: [one] },
    { label: 'primacy redlock (3 nodes)', kind: 'primacy-redlock', urls: three },
    { label: 'redlock (3 nodes)', kind: 'redlock', urls: three },
  ];
}

/** Started servers, so a signal handler can kill them synchronously. */
const servers: RedisServer[] = [];

/** SIGKILLs every redis-server this module started (synchronous, for signal handlers). */
export function killRedisServersNow(): void {
  for (const server of servers.splice(0)) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export async function runRedisPart(options: {
  dir: string;
  rounds: number;
  contenders: number;
  selected: (id: string) => boolean;
  log: (line: string) => void;
}): Promise<RedisPartResult> {
  const { dir, rounds, contenders, selected, log } = options;
  try {
    for (let i = 0; i < 3; i++) servers.push(await startRedis());
    const [one, ...rest] = servers.map((s) => s.url) as [string, ...string[]];
    const three = [one, ...rest];
    log(`redis-server on ports ${servers.map((s) => s.port).join(', ')}`);
    const kinds = redisKinds(one, three);
    const libs = libraries(one, three);

    let ops: OpsRun | null = null;
    if (selected('redis-ops')) {
      log('redis: uncontended acquire + release');
      ops = await measureRedisOps(libs);
      for (const r of ops.results) log(`  ${r.label}: ${r.opsPerSec.toFixed(0)} ops/s`);
    }
    let contention: ContentionResult[] | null = null;
    if (selected('redis-contention')) {
      contention = [];
      for (const lib of libs) {
        log(`redis: 4 processes contending, ${lib.label}`);
        const result = await measureContention(lib, `bench-contention-${lib.kind}-${lib.urls.length}`);
        contention.push(result);
        log(`  ${result.acquisitionsPerSec.toFixed(0)} acquisitions/s (${result.perProcess.map((n) => n.toFixed(0)).join(' / ')})`);
      }
    }
    let idle: IdleRun[] | null = null;
    if (selected('redis-idle')) {
      idle = [];
      for (const kind of kinds) {
        log(`redis: idle followers, ${kind.label}`);
        const result = await measureIdle({
          spec: kind.spec(dir, `${kind.id}-idle`),
          nodes: kind.nodes === 1 ? servers.slice(0, 1) : servers,
          patienceMs: kind.patienceMs,
        });
        idle.push({ label: kind.label, nodes: kind.nodes, result });
        log(`  ${result.perFollower.toFixed(1)} commands/s per idle follower (${result.perFollowerSent.toFixed(1)} sent)`);
      }
    }
    const runs: ContenderRun[] = [];
    for (const kind of kinds.filter((k) => selected(k.id))) {
      runs.push(await measureKind(kind, dir, { rounds, contenders, log }));
    }
    return { runs, ops, contention, idle };
  } finally {
    await Promise.all(servers.splice(0).map((server) => server.stop().catch(() => undefined)));
  }
}
