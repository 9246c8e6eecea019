/**
 * `npm run bench`: failover and hand-over of primacy's file lock against proper-lockfile (defaults
 * and tuned), then in-process costs; writes bench/RESULTS.md and prints the table.
 *
 * Everything runs sequentially: on a 2-core machine, contenders of another kind running alongside
 * would steal the CPU that millisecond failovers are measured with.
 *
 * Env: BENCH_ROUNDS (default 20) rounds per contender and signal; BENCH_ONLY=id,id to run a subset
 * (ids: primacy-file, proper-lockfile-defaults, proper-lockfile-tuned, micro) while iterating.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from './clock.js';
import { describeEnvironment } from './environment.js';
import { type KillSignal, measureFailover } from './failover.js';
import { type ContenderSpec, killEverything, killEverythingNow } from './field.js';
import { measureMicro } from './micro.js';
import { type ContenderRun, failoverTable, renderMarkdown } from './report.js';

const CONTENDERS = 4;
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const selected = (id: string) => !only || only.includes(id);

const contenderScript = (file: string) => fileURLToPath(new URL(`./contenders/${file}`, import.meta.url));
const resultsPath = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

interface Kind {
  id: string;
  label: string;
  settings: string;
  spec: (dir: string, phase: string) => ContenderSpec;
  /** Longest legitimate wait for a failover or a settled field, with room for a slow machine. */
  patienceMs: number;
}

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
  const started = now();
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
      const run: ContenderRun = { label: kind.label, settings: kind.settings, results: {} };
      for (const signal of ['SIGKILL', 'SIGTERM'] as KillSignal[]) {
        const phase = `${kind.id}-${signal.toLowerCase()}`;
        log(`${kind.label}: ${signal} × ${rounds}`);
        run.results[signal] = await measureFailover({
          spec: kind.spec(dir, phase),
          signal,
          rounds,
          contenders: CONTENDERS,
          patienceMs: kind.patienceMs,
          log: (line) => log(`${kind.label} ${line}`),
        });
      }
      runs.push(run);
    }
    const runtimeMs = now() - started;
    const markdown = renderMarkdown({ env, rounds, contenders: CONTENDERS, runs, micro, runtimeMs });
    await writeFile(resultsPath, markdown);
    process.stdout.write(`\n${failoverTable(runs)}\n\n`);
    if (micro) {
      process.stdout.write(
        `isPrimary: ${micro.nsPerRead.toFixed(1)} ns/read; acquire+release: primacy file ${micro.primacyOpsPerSec.toFixed(0)} ops/s, ` +
          `proper-lockfile ${micro.properLockfileOpsPerSec.toFixed(0)} ops/s\n`,
      );
    }
    process.stdout.write(`total runtime ${(runtimeMs / 1000).toFixed(1)} s; written to ${resultsPath}\n`);
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
    if (tempDir) rmSync(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    process.exit(130);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
