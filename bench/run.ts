/**
 * `npm run bench`: failover and hand-over of primacy's file lock against proper-lockfile (defaults
 * and tuned), in-process costs, then the Redis part (primacy's redis and redlock adapters against
 * raw ioredis, redlock and redis-semaphore: failover, throughput, contention, idle cost, on private
 * redis-servers), the PostgreSQL, MySQL/MariaDB and etcd failover part (each beside a hand-written
 * loop or the client's own election), the idle cost per lock of every network adapter, then the
 * worker manager; records every sample in bench/results.json, renders bench/RESULTS.md and one SVG chart
 * per measure in bench/charts/ from it (bench/render.ts), and prints the tables.
 *
 * Everything runs sequentially: on a 2-core machine, contenders of another kind running alongside
 * would steal the CPU that millisecond failovers are measured with.
 *
 * Env: BENCH_ROUNDS (default 20) rounds per contender and signal; BENCH_ONLY=id,id to run a subset
 * while iterating (bench/ids.ts). ids: primacy-file, proper-lockfile-defaults, proper-lockfile-tuned, micro (group
 * `file`); primacy-redis, primacy-redlock, ioredis, redlock, redis-semaphore (failover), redis-ops,
 * redis-contention, redis-idle (group `redis`); primacy-postgres, pg-advisory-loop (group `postgres`), primacy-mysql,
 * mysql-get-lock-loop (group `mysql`), primacy-etcd, etcd3-election (group `etcd`), all six: group `sql-etcd`;
 * idle-redis, idle-redlock, idle-postgres, idle-mysql, idle-etcd (group `idle-per-lock`: idle cost per lock at 1, 10, 50
 * and 200 followers); manager-failover, manager-hang, manager-http, manager-reload, pm2-hang
 * (group `manager`: primacy's WorkerManager against plain node:cluster and PM2). A run of the manager part alone
 * replaces the `manager` part of results.json and keeps the rest; a run without it keeps the recorded manager part.
 * BENCH_RENDER_ONLY=1 measures nothing: it re-renders RESULTS.md and the charts from the recorded results.json.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killEverything, killEverythingNow } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { describeEnvironment } from './environment.js';
import { type Kind, measureKind } from './failover.js';
import { handOverTable } from './handover-report.js';
import { IDLE_PER_LOCK_IDS, measureIdlePerLock } from './idle-per-lock.js';
import { idlePerLockStdout } from './idle-per-lock-report.js';
import { selection } from './ids.js';
import { MANAGER_PART_IDS, runManagerPart } from './manager/part.js';
import { killPm2Now } from './manager/pm2.js';
import { managerSection } from './manager/report.js';
import { measureMicro } from './micro.js';
import { killPrivateServersNow, stopPrivateServers } from './private-servers.js';
import { killRedisServersNow, REDIS_PART_IDS, runRedisPart } from './redis-part.js';
import { redisStdout } from './redis-report.js';
import { machineOf, publish, renderFromDisk } from './render.js';
import { type ContenderRun, failoverTable } from './report.js';
import { assemble, type MainRun, type ManagerRun, readResults, SCHEMA, serialize } from './results.js';
import { runSqlEtcdPart, SQL_ETCD_IDS } from './sql-etcd-part.js';
import { sqlEtcdStdout } from './sql-etcd-report.js';

const CONTENDERS = 4;
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
const { only, selected } = selection(process.env.BENCH_ONLY);

const contenderScript = (file: string) => fileURLToPath(new URL(`./contenders/${file}`, import.meta.url));
const resultsPath = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const dataPath = fileURLToPath(new URL('./results.json', import.meta.url));

function properLockfile(id: string, label: string, stale: number, update: number, poll: number): Kind {
  return {
    id,
    label,
    settings: `stale ${stale}, update ${update}, poll ${poll} ms`,
    spec: (dir, phase) => ({
      script: contenderScript('proper-lockfile.ts'),
      args: [join(dir, `${phase}.resource`), String(stale), String(update), String(poll)],
    }),
    patienceMs: 3 * stale + 15_000,
  };
}

const KINDS: Kind[] = [
  {
    id: 'primacy-file',
    label: 'primacy file',
    settings: 'defaults: ttl 10000, retry 1000 ms',
    spec: (dir, phase) => ({ script: contenderScript('primacy-file.ts'), args: [dir, phase] }),
    patienceMs: 45_000,
  },
  properLockfile('proper-lockfile-defaults', 'proper-lockfile defaults', 10_000, 5_000, 1_000),
  properLockfile('proper-lockfile-tuned', 'proper-lockfile tuned', 2_000, 1_000, 50),
];

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Every lock of the run lives under this fresh directory; removed at the end whatever happens. */
let tempDir: string | undefined;

async function cleanUp(): Promise<void> {
  await killEverything();
  await stopPrivateServers();
  if (tempDir) await rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

async function main(): Promise<void> {
  const started = wallNow();
  const env = describeEnvironment();
  const dir = await mkdtemp(join(tmpdir(), 'primacy-bench-'));
  tempDir = dir;
  try {
    const micro = selected('micro') ? await measureMicro(dir) : null;
    if (micro)
      log(
        `isPrimary ${micro.nsPerRead.toFixed(1)} ns/read; ops/s primacy ${micro.primacyOpsPerSec.toFixed(0)}, proper-lockfile ${micro.properLockfileOpsPerSec.toFixed(0)}`,
      );
    const runs: ContenderRun[] = [];
    for (const kind of KINDS.filter((k) => selected(k.id))) {
      runs.push(await measureKind(kind, dir, { rounds, contenders: CONTENDERS, log }));
    }
    const redis = REDIS_PART_IDS.some(selected) ? await runRedisPart({ dir, rounds, contenders: CONTENDERS, selected, log }) : null;
    const sqlEtcd = SQL_ETCD_IDS.some(selected) ? await runSqlEtcdPart({ dir, rounds, contenders: CONTENDERS, selected, log }) : null;
    const idlePerLock = IDLE_PER_LOCK_IDS.some(selected) ? await measureIdlePerLock({ selected, log }) : null;
    const manager = MANAGER_PART_IDS.some(selected) ? await runManagerPart({ dir, rounds, selected, log }) : null;
    const runtimeMs = wallNow() - started;
    const command = `${only ? `BENCH_ONLY=${only.join(',')} ` : ''}npm run bench`;
    // A part that did not run keeps its recorded data (the manager part alone keeps the file and Redis parts).
    const recorded = await readResults(dataPath).catch((error: unknown) => {
      log(`ignoring the recorded ${dataPath}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    const ranMain = Boolean(micro || runs.length || redis || sqlEtcd || idlePerLock);
    const mainRun: MainRun | null = ranMain
      ? { env, command, rounds, contenders: CONTENDERS, runs, micro, redis, sqlEtcd, idlePerLock, runtimeMs, only }
      : (recorded?.main ?? null);
    const managerRun: ManagerRun | null = manager ? { env, command, result: manager } : (recorded?.manager ?? null);
    let published: Awaited<ReturnType<typeof publish>>;
    try {
      published = await publish(assemble(mainRun, managerRun));
    } catch (error) {
      // Twenty minutes of measurement must outlive a bug in the charts or the Markdown: keep the data
      // (measures are derived, so none are needed), fix the renderer, then run bench/render.ts.
      await writeFile(dataPath, serialize({ schema: SCHEMA, about: '', main: mainRun, manager: managerRun, measures: [] }));
      log(`rendering failed; the measurements are in ${dataPath}: re-render with node --import tsx bench/render.ts`);
      throw error;
    }
    if (runs.length) process.stdout.write(`\n${failoverTable(runs)}\n\n`);
    if (micro) {
      process.stdout.write(
        `isPrimary: ${micro.nsPerRead.toFixed(1)} ns/read; acquire+release: primacy file ${micro.primacyOpsPerSec.toFixed(0)} ops/s, ` +
          `proper-lockfile ${micro.properLockfileOpsPerSec.toFixed(0)} ops/s\n`,
      );
    }
    if (redis) process.stdout.write(`\n${redisStdout(redis)}\n\n`);
    if (sqlEtcd) process.stdout.write(`\n${sqlEtcdStdout(sqlEtcd)}\n\n`);
    if (idlePerLock) process.stdout.write(`\n${idlePerLockStdout(idlePerLock)}\n\n`);
    const signalled = [...runs, ...(redis?.runs ?? []), ...(sqlEtcd?.runs ?? [])];
    if (signalled.length) process.stdout.write(`\nSIGTERM hand-over, step by step:\n\n${handOverTable(signalled)}\n\n`);
    if (manager) process.stdout.write(`\n${managerSection(manager, { date: env.date, command, ...machineOf(env) })}\n`);
    process.stdout.write(
      `total runtime ${(runtimeMs / 1000).toFixed(1)} s; written to ${resultsPath}, ${dataPath} and ${published.charts.length} charts\n`,
    );
  } finally {
    await cleanUp();
  }
}

// Ctrl-C or a SIGTERM to the bench still kills every contender and removes the temp dir. All of it
// synchronously: a measurement still running in this process must not write into the dir meanwhile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    killEverythingNow();
    killRedisServersNow();
    killPrivateServersNow();
    killPm2Now();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    process.exit(130);
  });
}

(process.env.BENCH_RENDER_ONLY ? renderFromDisk().then(() => undefined) : main()).catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
