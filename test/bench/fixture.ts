/**
 * A small hand-made bench dataset, shaped like bench/results.json, with round numbers so the tests
 * can state the expected figures: primacy file SIGKILL p50 10 ms against proper-lockfile's 10000 ms
 * (1000×), a peer faster than primacy on SIGTERM, a 3-node group, PostgreSQL and etcd beside their
 * peers, the idle cost per lock at 1 and 200 followers, and a manager part from a later run.
 */
import type { Environment } from '../../bench/environment.js';
import type { ContenderRun, FailoverResult, KillSignal } from '../../bench/failover.js';
import type { IdleLevel } from '../../bench/idle-per-lock.js';
import type { KillSample } from '../../bench/manager/failover.js';
import type { LoadResult } from '../../bench/manager/http.js';
import type { MainRun, ManagerRun } from '../../bench/results.js';
import type { SqlEtcdBackend, SqlEtcdRun } from '../../bench/sql-etcd-part.js';

export function environment(date: string): Environment {
  return {
    date,
    cpu: 'Test CPU',
    cores: 2,
    memoryGiB: 4,
    os: 'Test OS',
    node: 'v20.0.0',
    primacy: '0.1.0',
    properLockfile: '4.1.2',
    tsx: '4.0.0',
    redisServer: '7.0.0',
    ioredis: '5.9.2',
    redlock: '5.0.0-beta.2',
    redisSemaphore: '5.8.0',
    pm2: '6.0.14',
    pg: '8.23.1',
    mysql2: '3.24.6',
    etcd3: '1.1.2',
    postgresServer: '15.20',
    mariadbServer: '10.11.19-MariaDB',
    etcdServer: '3.4.23',
  };
}

/** SIGTERM rounds step by step: the holder steps down 1 ms after the signal, the bench reads the new primary's line 2 ms after its stamp. */
function failover(signal: KillSignal, samples: number[]): FailoverResult {
  return {
    signal,
    samples,
    rounds: samples.map((ms) => ({ stepDownMs: signal === 'SIGTERM' ? 1 : null, seenMs: ms + 2, exitMs: 20 })),
    cpuBusy: 0.5,
    overlaps: { intervals: samples.length + 1, overlaps: 0, worst: 0, details: [] },
    anomalies: [],
    minDeliveryMs: 0.1,
    spawned: samples.length + 4,
    warnings: [],
    errors: [],
    durationMs: 1000,
  };
}

function run(label: string, kill: number[], term: number[]): ContenderRun {
  return { label, settings: `${label} settings`, results: { SIGKILL: failover('SIGKILL', kill), SIGTERM: failover('SIGTERM', term) } };
}

function backendRun(backend: SqlEtcdBackend, label: string, kill: number[], term: number[]): SqlEtcdRun {
  return { ...run(label, kill, term), backend };
}

function idleLevel(followers: number, perSec: number, holderPerSec: number): IdleLevel {
  return {
    followers,
    processes: followers > 50 ? 4 : 1,
    seconds: 60,
    total: perSec * 60,
    holder: holderPerSec * 60,
    perSec,
    holderPerSec,
    top: [{ what: 'client|list', perSec: perSec - holderPerSec }],
    cpuBusy: 0.25,
    notes: [],
  };
}

export function mainRun(date = '2026-01-01T00:00:00.000Z'): MainRun {
  const idle = (perFollower: number, nodes: number) => ({
    followers: 3,
    nodes,
    seconds: 10,
    perFollower,
    perFollowerSent: perFollower,
    top: [{ command: 'get', perSec: perFollower }],
    holderPerSec: 1,
    anomalies: [],
  });
  const contention = (label: string, nodes: number, acquisitionsPerSec: number) => ({
    label,
    nodes,
    processes: 4,
    acquisitionsPerSec,
    perProcess: [1, 2, 3, 4].map(() => acquisitionsPerSec / 4),
    attemptsPerSec: acquisitionsPerSec * 2,
    errors: [],
  });
  return {
    env: environment(date),
    command: 'npm run bench',
    rounds: 3,
    contenders: 4,
    runtimeMs: 60_000,
    only: undefined,
    runs: [run('primacy file', [8, 10, 12], [9, 10, 11]), run('proper-lockfile defaults', [9000, 10000, 11000], [4, 5, 6])],
    micro: {
      reads: 1e6,
      nsPerRead: 50,
      nsPerClockRead: 48,
      primacyOpsPerSec: 1500,
      properLockfileOpsPerSec: 4000,
      primacySlices: [1400, 1600],
      properLockfileSlices: [3900, 4100],
      opsSeconds: 1,
    },
    redis: {
      runs: [
        run('primacy redis', [40, 50, 60], [4, 5, 6]),
        run('primacy redlock (3 nodes)', [45, 50, 55], [5, 6, 7]),
        run('ioredis SET NX PX + Lua', [9000, 9500, 9900], [400, 500, 600]),
        run('redlock (3 nodes)', [9000, 9400, 9900], [30, 36, 40]),
      ],
      ops: {
        seconds: 1,
        slices: 2,
        results: [
          { label: 'primacy redis', nodes: 1, opsPerSec: 2000, slices: [1900, 2100] },
          { label: 'ioredis SET NX PX + Lua', nodes: 1, opsPerSec: 4000, slices: [3900, 4100] },
          { label: 'primacy redlock (3 nodes)', nodes: 3, opsPerSec: 1000, slices: [900, 1100] },
          { label: 'redlock (3 nodes)', nodes: 3, opsPerSec: 3000, slices: [2900, 3100] },
        ],
      },
      contention: [contention('primacy redis', 1, 3000), contention('ioredis SET NX PX + Lua', 1, 5000)],
      idle: [
        { label: 'primacy redis', nodes: 1, result: idle(9, 1) },
        { label: 'ioredis SET NX PX + Lua', nodes: 1, result: idle(1, 1) },
      ],
    },
    sqlEtcd: {
      runs: [
        backendRun('postgres', 'primacy postgres', [100, 200, 300], [8, 10, 12]),
        backendRun('postgres', 'pg advisory-lock loop', [400, 500, 600], [300, 400, 500]),
        backendRun('etcd', 'primacy etcd', [4000, 4500, 5000], [50, 60, 70]),
        backendRun('etcd', 'etcd3 Election', [4000, 4200, 4400], [30, 30, 30]),
      ],
      loopPollMs: 1000,
      etcdTtlMs: 5000,
    },
    idlePerLock: {
      settleSeconds: 10,
      windowSeconds: 60,
      rounds: [[1, 10, 50], [200]],
      goalPerSec: 20,
      backends: [
        { backend: 'redis', label: 'primacy redis', unit: 'commands', nodes: 1, levels: [idleLevel(1, 11, 1), idleLevel(200, 14, 1)] },
        { backend: 'redlock', label: 'primacy redlock (3 nodes)', unit: 'commands', nodes: 3, levels: [idleLevel(200, 24, 3)] },
      ],
    },
  };
}

function kill(ms: number): KillSample {
  return { ms, exitMs: 5, delayMs: 0, forkMs: 10, bootMs: 240, replacedMs: 250 };
}

const load = (rps: number, failures: Record<string, number> = {}): LoadResult => ({ ok: rps, failures, seconds: 1, rps });

export function managerRun(date = '2026-01-02T00:00:00.000Z'): ManagerRun {
  return {
    env: environment(date),
    command: 'BENCH_ONLY=manager npm run bench',
    result: {
      pm2: '6.0.14',
      failover: {
        workers: 4,
        stableAfter: 1000,
        startBootMs: [800, 800, 800, 800],
        primary: [kill(8), kill(9), kill(10)],
        worker: [kill(240), kill(250), kill(260)],
        hang: [{ hungMs: 5000, ackedMs: 5250, silentFor: 5100 }],
        anomalies: [],
        durationMs: 10_000,
      },
      throughput: [
        { label: 'primacy WorkerManager', slices: [load(12_000), load(14_000)], rps: 13_000 },
        { label: 'plain node:cluster', slices: [load(12_500), load(13_500)], rps: 13_000 },
        { label: 'PM2 cluster mode', slices: [load(13_000), load(14_000)], rps: 13_500 },
      ],
      reloads: [
        { label: 'primacy WorkerManager', mode: 'keep-alive', reloadMs: 5000, load: load(70_000) },
        // NaN: a reload whose duration was never reported, as the bench records it when one fails midway.
        { label: 'PM2 cluster mode', mode: 'keep-alive', reloadMs: Number.NaN, load: load(36_000, { ECONNRESET: 12 }) },
      ],
      pm2Hang: null,
      errors: [],
      runtimeMs: 100_000,
    },
  };
}
