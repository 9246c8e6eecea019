/**
 * `npm run bench`: failover and hand-over of primacy's file lock against proper-lockfile (defaults
 * and tuned), in-process costs, then the Redis part (primacy's redis and redlock adapters against
 * raw ioredis, redlock and redis-semaphore: failover, throughput, contention, idle cost, on private
 * redis-servers); records every sample in bench/results.json, renders bench/RESULTS.md and one SVG chart
 * per measure in bench/charts/ from it (bench/render.ts), and prints the tables.
 *
 * Everything runs sequentially: on a 2-core machine, contenders of another kind running alongside
 * would steal the CPU that millisecond failovers are measured with.
 *
 * Env: BENCH_ROUNDS (default 20) rounds per contender and signal; BENCH_ONLY=id,id to run a subset
 * while iterating. ids: primacy-file, proper-lockfile-defaults, proper-lockfile-tuned, micro (group
 * `file`); primacy-redis, primacy-redlock, ioredis, redlock, redis-semaphore (failover), redis-ops,
 * redis-contention, redis-idle (group `redis`); manager-failover, manager-hang, manager-http, manager-reload, pm2-hang
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
import { MANAGER_PART_IDS, runManagerPart } from './manager/part.js';
import { killPm2Now } from './manager/pm2.js';
import { managerSection } from './manager/report.js';
import { measureMicro } from './micro.js';
import { killRedisServersNow, REDIS_PART_IDS, runRedisPart } from './redis-part.js';
import { redisStdout } from './redis-report.js';
import { machineOf, publish, renderFromDisk } from './render.js';
import { type ContenderRun, failoverTable } from './report.js';
import { assemble, type MainRun, type ManagerRun, readResults, SCHEMA, serialize } from './results.js';

const CONTENDERS = 4;
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
const FILE_PART_IDS = ['primacy-file', 'proper-lockfile-defaults', 'proper-lockfile-tuned', 'micro'];
const GROUPS: Record<string, readonly string[]> = { file: FILE_PART_IDS, redis: REDIS_PART_IDS, manager: MANAGER_PART_IDS };
const KNOWN_IDS: readonly string[] = [...FILE_PART_IDS, ...REDIS_PART_IDS, ...MANAGER_PART_IDS];
const only = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const onlyIds = only?.flatMap((id) => GROUPS[id] ?? [id]);
for (const id of onlyIds ?? []) {
  if (!KNOWN_IDS.includes(id)) {
    throw new Error(`BENCH_ONLY: unknown id ${id} (known: file, redis, manager, ${KNOWN_IDS.join(', ')})`);
  }
}
const selected = (id: string) => !onlyIds || onlyIds.includes(id);

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
    const manager = MANAGER_PART_IDS.some(selected) ? await runManagerPart({ dir, rounds, selected, log }) : null;
    const runtimeMs = wallNow() - started;
    const command = `${only ? `BENCH_ONLY=${only.join(',')} ` : ''}npm run bench`;
    // A part that did not run keeps its recorded data (the manager part alone keeps the file and Redis parts).
    const recorded = await readResults(dataPath).catch((error: unknown) => {
      log(`ignoring the recorded ${dataPath}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    const ranMain = Boolean(micro || runs.length || redis);
    const mainRun: MainRun | null = ranMain
      ? { env, command, rounds, contenders: CONTENDERS, runs, micro, redis, runtimeMs, only }
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
    killPm2Now();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    process.exit(130);
  });
}

(process.env.BENCH_RENDER_ONLY ? renderFromDisk().then(() => undefined) : main()).catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
