/**
 * The chaos suite: `npm run chaos -- --adapter <name> --seconds N`.
 * Starts the fenced store, the lock's backend and N candidates, waits for a first primary, then runs
 * a seeded fault schedule for N seconds and reports what the candidates and the store saw
 * (report.ts). Everything it starts is torn down on every way out: the end, an error, SIGINT.
 *
 * Flags (args.ts parses them strictly; `--help` prints the same):
 *   --adapter <name>       file (default), redis, redlock (3 nodes), postgres, mysql (MariaDB),
 *                          etcd (1 member), etcd-cluster (3 members), manager, mixed. The servers
 *                          are private, started by the run (backend*.ts); the fault kinds are the
 *                          candidate kinds plus the adapter's own (faults.ts, chaos/RESULTS.md)
 *   --seconds <n>          length of the fault phase, >= 5 (60)
 *   --candidates <n>       candidate processes, 2..32 (mixed 3..32) (5)
 *   --seed <n>             schedule seed: the same seed and options give the same schedule (random)
 *   --ttl <ms>             base TTL, >= 1000; candidates alternate 1×, 1.5×, 2× it (2000)
 *   --uniform-ttl          every candidate uses --ttl
 *   --identity <label>     the `identity` every candidate shares (chaos-pod)
 *   --distinct-identities  each candidate the library's default identity instead
 *   --kinds <a,b,...>      only these fault kinds of the adapter
 *   --json                 the report as JSON on stdout (progress on stderr)
 *   --log <file>           also the raw run log as JSON
 * Exit codes: 0 no violation, 1 a violation, 2 the run could not be set up, 64 bad usage, 130 SIGINT.
 * A short run of a few kinds is the quick mode the tests use (test/chaos/chaos*.test.ts), e.g.
 *   npm run chaos -- --adapter postgres --seconds 12 --ttl 1000 --candidates 3 --kinds postgres-kill-restart,kill-primary
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostNow } from '../harness/clock.js';
import { signal } from '../harness/pids.js';
import { type ChaosOptions, HELP, MIXED_TTL_FACTORS, parseOptions, replayCommand, UsageError } from './args.js';
import { type Backend, startBackend } from './backend.js';
import { type Checker, startChecker } from './checker.js';
import { setUpClock } from './clock.js';
import { kindsFor, schedule } from './faults.js';
import { DirectFleet, type Fleet } from './fleet.js';
import { ManagedFleet, MixedFleet, mixedSplit } from './fleet-managed.js';
import { runSchedule } from './inject.js';
import { formatReport } from './print.js';
import { type CandidateSettings, candidateTtl, heartbeatTimeoutOf, largestTtl } from './protocol.js';
import { Recorder } from './recorder.js';
import { buildReport } from './report.js';

let options: ChaosOptions;
try {
  options = parseOptions(process.argv.slice(2), () => randomInt(2 ** 32 - 1));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`chaos: ${error.message}\nRun with --help for the options.\n`);
  process.exit(64);
}
if (options.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const { adapter, seconds, candidates, seed, ttl, identity } = options;
const ttlFactors = options.mixedTtls ? MIXED_TTL_FACTORS.slice(0, candidates) : [1];
const ttls = [...new Set(Array.from({ length: candidates }, (_, slot) => candidateTtl({ ttl, ttlFactors }, slot)))];
const largest = largestTtl({ ttl, ttlFactors });
const progress = (message: string) => process.stderr.write(`chaos: ${message}\n`);
const replay = replayCommand(options);
const split = mixedSplit(candidates);
const fleetOf = adapter === 'mixed' ? ` (2 managers × ${split.perManager} workers + ${split.plain} plain)` : '';
const heading = `primacy chaos: adapter ${adapter}, seed ${seed}, ${seconds} s, ${candidates} candidates${fleetOf}, ttl ${ttls.join('/')} ms, identity ${identity ?? '(each its own)'}`;
progress(`${heading}\nchaos: replay with: ${replay}`);

const controller = new AbortController();
let interrupted = false;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    interrupted = true;
    controller.abort();
  });
}

const workDir = mkdtempSync(join(tmpdir(), 'primacy-chaos-'));
const recorder = new Recorder();
// Of the base (smallest) TTL, so it is valid for every candidate.
const retryInterval = Math.round(ttl / 8);
// After the fault that explains it, a primary must be back within this long: a lease left by a
// paused holder expires (its TTL, at most the largest), followers backing off from backend errors
// retry (≤ their TTL), plus room for a reconnect.
const gapBound = 2 * largest + 1000;
let checker: Checker | undefined;
let backend: Backend | undefined;
let fleet: Fleet | undefined;
// If this process dies abruptly, take the children with it (the orderly path is `finally` below).
process.on('exit', () => {
  for (const pid of [...recorder.live().map((m) => m.pid), ...(fleet?.helperPids() ?? []), ...(backend?.pids() ?? [])]) {
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGKILL');
  }
});

/**
 * The fleets with managers use the default lock, which lives in the per-user private root: point
 * XDG_RUNTIME_DIR of every process of the fleet (managers, their workers, plain candidates) at
 * this run's own dir, so the run starts afresh, never touches the user's real one, and every
 * process finds the same default lock there.
 */
function runtimeEnv(): NodeJS.ProcessEnv {
  if (adapter !== 'manager' && adapter !== 'mixed') return {};
  const dir = join(workDir, 'runtime');
  mkdirSync(dir, { mode: 0o700 });
  return { XDG_RUNTIME_DIR: dir };
}

async function until(condition: () => unknown, timeout: number, what: string): Promise<void> {
  const deadline = hostNow() + timeout;
  while (!condition()) {
    if (hostNow() > deadline) throw new Error(`${what} within ${timeout} ms`);
    await sleep(20, undefined, { signal: controller.signal });
  }
}

let exitCode = 0;
try {
  checker = await startChecker();
  backend = await startBackend(adapter, workDir);
  const settings: CandidateSettings = {
    adapter,
    where: backend.where,
    name: 'chaos',
    ttl,
    ttlFactors,
    identity,
    retryInterval,
    checkerUrl: checker.url,
    controlDir: workDir,
  };
  const clock = setUpClock(workDir, options.kinds ?? kindsFor(adapter), progress);
  const env = { ...clock.env, ...runtimeEnv() };
  fleet =
    adapter === 'manager'
      ? new ManagedFleet(recorder, settings, env)
      : adapter === 'mixed'
        ? new MixedFleet(recorder, settings, env)
        : new DirectFleet(recorder, settings, env);
  await fleet.start(candidates);
  await until(() => recorder.targets().length === candidates && recorder.primary(), 60_000, 'no candidate became primary');
  const plan = schedule({ adapter, seed, length: seconds * 1000, ttl, largestTtl: largest, kinds: clock.kinds });
  const start = hostNow();
  progress(`${candidates} candidates up, pid ${recorder.primary()?.pid} is primary; ${plan.length} faults planned`);
  const ttlOf = (member: { slot: number }) => candidateTtl(settings, member.slot);
  const deps = { fleet, backend, recorder, ttlOf, largestTtl: largest, lockName: settings.name, clockDir: clock.dir };
  await runSchedule(plan, start, { ...deps, signal: controller.signal, progress });
  const rest = start + seconds * 1000 - hostNow();
  if (rest > 0) await sleep(rest, undefined, { signal: controller.signal });
  const end = hostNow();
  recorder.close();
  const writes = checker.log.filter((w) => w.t <= end);
  const { events, pauses, faults, crashes, hangs, orphans } = recorder;
  const managed = fleet.managers().length > 0 ? { hangs, orphans, heartbeatTimeout: heartbeatTimeoutOf(settings) } : {};
  const log = { start, end, events, pauses, faults, writes, crashes, gapBound, ...managed };
  if (options.log) writeFileSync(options.log, JSON.stringify(log));
  const report = buildReport(log);
  if (options.json) {
    const errors = Object.fromEntries(recorder.errors);
    // Every process this run started, so a caller can check that none outlived it.
    const pids = [...recorder.pids(), ...fleet.startedHelperPids(), ...backend.pids()];
    const run = {
      adapter,
      seed,
      seconds,
      candidates,
      ...(adapter === 'mixed' ? { fleet: split } : {}),
      ttl,
      ttls,
      identity,
      retryInterval,
      gapBound,
      replay,
    };
    const { clockStepsSeen } = recorder;
    process.stdout.write(`${JSON.stringify({ ...run, ...report, clockStepsSeen, errors, pids }, null, 2)}\n`);
  } else {
    process.stdout.write(formatReport(report, heading, replay, recorder.errors));
  }
  exitCode = report.violations.length > 0 ? 1 : 0;
} catch (error) {
  if (interrupted) {
    progress('interrupted');
    exitCode = 130;
  } else {
    progress(`the run could not be carried out: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 2;
  }
} finally {
  recorder.close();
  await fleet?.close();
  await backend?.close();
  await checker?.close();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
