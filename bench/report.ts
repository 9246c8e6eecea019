/** Renders one bench run as Markdown (bench/RESULTS.md) and as the table printed to stdout. */
import type { Environment } from './environment.js';
import type { ContenderRun, KillSignal } from './failover.js';
import { handOverSection } from './handover-report.js';
import type { IdlePerLockResult } from './idle-per-lock.js';
import { idlePerLockSection } from './idle-per-lock-report.js';
import type { MicroResult } from './micro.js';
import type { RedisPartResult } from './redis-part.js';
import { redisSection } from './redis-report.js';
import type { SqlEtcdPartResult } from './sql-etcd-part.js';
import { sqlEtcdSection } from './sql-etcd-report.js';
import { formatMs, summarize } from './stats.js';

export type { ContenderRun };

export interface BenchRun {
  env: Environment;
  rounds: number;
  contenders: number;
  runs: ContenderRun[];
  micro: MicroResult | null;
  redis: RedisPartResult | null;
  /** PostgreSQL, MySQL/MariaDB and etcd failover (absent in runs recorded before it). */
  sqlEtcd?: SqlEtcdPartResult | null;
  /** Idle cost per lock of every network adapter (absent in runs recorded before it). */
  idlePerLock?: IdlePerLockResult | null;
  runtimeMs: number;
  /** Said in the header when only part of the bench ran. */
  only: string[] | undefined;
}

/** The Markdown that shows a measure's chart under its table (a paragraph of its own), or '' when there is none. */
export type Figure = (id: string) => string;

const SIGNALS: KillSignal[] = ['SIGKILL', 'SIGTERM'];

export function failoverTable(runs: readonly ContenderRun[]): string {
  const head = ['contender', 'settings', ...SIGNALS.flatMap((s) => [`${s} p50`, 'p95', 'max', 'overlaps'])];
  const rows = runs.map((run) => [
    run.label,
    run.settings,
    ...SIGNALS.flatMap((signal) => {
      const result = run.results[signal];
      if (!result) return ['–', '–', '–', '–'];
      const { p50, p95, max } = summarize(result.samples);
      return [formatMs(p50), formatMs(p95), formatMs(max), String(result.overlaps.overlaps)];
    }),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function ratioTable(runs: readonly ContenderRun[]): string {
  const [primacy, ...peers] = runs;
  if (!primacy || peers.length === 0) return '(no peers measured)';
  const ratio = (peer: ContenderRun, signal: KillSignal) => {
    const a = peer.results[signal];
    const b = primacy.results[signal];
    if (!a || !b) return '–';
    const value = summarize(a.samples).p50 / summarize(b.samples).p50;
    return `${value.toFixed(value >= 10 ? 0 : 1)}×`;
  };
  const lines = [`| p50 ÷ ${primacy.label} p50 | SIGKILL | SIGTERM |`, '|---|---|---|'];
  for (const peer of peers) lines.push(`| ${peer.label} | ${ratio(peer, 'SIGKILL')} | ${ratio(peer, 'SIGTERM')} |`);
  return lines.join('\n');
}

function microSection(micro: MicroResult | null): string {
  if (!micro) return '(skipped)';
  return [
    `- \`election.isPrimary\` (memory adapter, primary, ${(micro.reads / 1e6).toFixed(0)} M reads): **${micro.nsPerRead.toFixed(1)} ns/read**` +
      ` (the same loop reading \`performance.now()\` alone: ${micro.nsPerClockRead.toFixed(1)} ns; isPrimary is one monotonic clock read and a compare).`,
    `- Uncontended acquire + release, one process, adapter level, ${micro.opsSeconds} s each:` +
      ` primacy \`fileLock().acquire()\` + \`.release()\` **${micro.primacyOpsPerSec.toFixed(0)} ops/s**;` +
      ` proper-lockfile \`lock()\` + \`release()\` (defaults) **${micro.properLockfileOpsPerSec.toFixed(0)} ops/s**` +
      ' (measured in alternating 0.5 s slices; on this VM these figures swing by up to 2× from run to run).',
  ].join('\n');
}

function notes(runs: readonly ContenderRun[]): string {
  const lines: string[] = [];
  for (const run of runs) {
    for (const result of Object.values(run.results)) {
      const where = `${run.label} / ${result.signal}`;
      const { overlaps, anomalies, warnings, errors } = result;
      lines.push(
        `- ${where}: ${result.samples.length} rounds in ${(result.durationMs / 1000).toFixed(1)} s, ${result.spawned} processes,` +
          ` ${overlaps.intervals} holding intervals, ${overlaps.overlaps} overlaps` +
          (overlaps.overlaps ? ` (longest ${overlaps.worst.toFixed(2)} ms)` : '') +
          `, smallest event delivery delay ${result.minDeliveryMs.toFixed(3)} ms` +
          (result.cpuBusy === undefined ? '.' : `, machine CPU busy ${(result.cpuBusy * 100).toFixed(0)} %.`),
      );
      // Outliers hide in p95/max with 20 samples: list them so a reader can tell one from many.
      const p50 = summarize(result.samples).p50;
      const slow = result.samples.map((ms, i) => [i + 1, ms] as const).filter(([, ms]) => ms > 5 * p50);
      if (slow.length) lines.push(`  - rounds slower than 5 × p50: ${slow.map(([i, ms]) => `#${i} ${formatMs(ms)} ms`).join(', ')}`);
      for (const detail of [...overlaps.details, ...anomalies]) lines.push(`  - ${detail}`);
      for (const [line, count] of tally(warnings)) lines.push(`  - stderr ×${count}: \`${line.slice(0, 200)}\``);
      for (const [line, count] of tally(errors)) lines.push(`  - error event ×${count}: \`${line.slice(0, 200)}\``);
    }
  }
  return lines.join('\n');
}

function redisNotes(redis: RedisPartResult | null): string {
  const lines: string[] = [];
  for (const r of redis?.contention ?? []) for (const error of r.errors) lines.push(`- contention, ${r.label}: ${error}`);
  for (const { label, result } of redis?.idle ?? [])
    for (const anomaly of result.anomalies) lines.push(`- idle followers, ${label}: ${anomaly}`);
  return lines.join('\n');
}

/** Distinct stderr lines (pids and numbers blanked so repeats group) with their counts, top 5. */
function tally(lines: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const key = line.replace(/\d+/g, 'N');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
}

/** The private servers' line of the header: which of them the run started. */
function serversLine(env: Environment): string {
  const servers = [
    env.postgresServer && `PostgreSQL ${env.postgresServer}`,
    env.mariadbServer && `MariaDB ${env.mariadbServer.replace(/-MariaDB$/, '')}`,
    env.etcdServer && `etcd ${env.etcdServer}`,
  ].filter(Boolean);
  return servers.length ? `\n- Other servers: ${servers.join(', ')} (private processes started by the bench, loopback)` : '';
}

export function renderMarkdown(run: BenchRun, figure: Figure = () => ''): string {
  const { env } = run;
  const clients = env.pg ? `, pg ${env.pg}, mysql2 ${env.mysql2}, etcd3 ${env.etcd3}` : '';
  const allRuns = [...run.runs, ...(run.redis?.runs ?? []), ...(run.sqlEtcd?.runs ?? [])];
  return `# primacy benchmark results

Generated by \`npm run bench\` (bench/run.ts); rerun it to refresh. One run on one machine, every failover
measured one contender kind at a time (the idle cost per lock runs its backends side by side: it counts requests, not time).

- Date: ${env.date}
- Machine: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB.toFixed(1)} GiB RAM
- OS: ${env.os}
- Node: ${env.node} (contenders run TypeScript through tsx ${env.tsx})
- Packages: primacy ${env.primacy} (this checkout), proper-lockfile ${env.properLockfile}, ioredis ${env.ioredis},
  redlock ${env.redlock}, redis-semaphore ${env.redisSemaphore}, pm2 ${env.pm2}${clients}
- Redis: redis-server ${env.redisServer} (private processes started by the bench, loopback, no persistence)${serversLine(env)}
- Command: \`${run.only ? `BENCH_ONLY=${run.only.join(',')} ` : ''}npm run bench\` (${run.rounds} rounds per contender and signal; \`BENCH_ROUNDS\` overrides)
- Total runtime: ${(run.runtimeMs / 1000).toFixed(0)} s
- Raw data: [results.json](results.json), every round's sample; the charts in [charts/](charts) are drawn from it.
  \`node --import tsx bench/render.ts\` re-renders this file and the charts from it without measuring again.

## Failover and hand-over (ms)

File locks: primacy's \`fileLock\` against proper-lockfile.
${run.contenders} contender processes on one lock. SIGKILL: failover after the holder is killed;
SIGTERM: hand-over after a graceful shutdown. Time from the orchestrator sending the signal to
another contender reporting \`acquired\` (its own stamp of the moment it became primary: primacy's \`elected\`), on a shared
wall clock (\`performance.timeOrigin + performance.now()\` in every process); "SIGTERM hand-over, step by step" below splits
it up. p50/p95 interpolate between ranks. *overlaps*: pairs of
holding intervals of different processes that intersect (must be 0).

${run.runs.length ? failoverTable(run.runs) : '(skipped)'}${figure('file-sigkill')}${figure('file-sigterm')}

Ratios (how many times longer than primacy, p50 ÷ p50):

${ratioTable(run.runs)}

## In-process costs

${microSection(run.micro)}${figure('file-throughput')}

## How it was measured

- Each round waits until the field is settled (${run.contenders} ready, exactly one holder), keeps it so for a random
  200–400 ms, signals the holder, waits for the next \`acquired\`, waits for the victim to exit, then spawns a replacement.
  The holder is therefore killed ~0.5–1.5 s into its term. proper-lockfile's staleness counts from the lock's last mtime
  update (every \`update\` ms), so a crash late in a long tenure would fail over up to \`update\` ms sooner than shown.
  Also, the first \`lock()\` in a process probes the file system's mtime precision by setting the lock's mtime to the
  next whole second + 5 ms, i.e. up to 1 s in the future; a holder killed before its first update (always, with the
  defaults' 5 s update) therefore goes stale 0–1 s later than \`stale\` — which is why its SIGKILL figures exceed
  \`stale\`. That is proper-lockfile's real behaviour for a fresh process, so it is measured as is.
- Contenders: \`bench/contenders/primacy-file.ts\` is \`elect({ name, lock: fileLock({ dir }) })\` with every default
  (ttl 10 s, retryInterval 1 s, handleSignals: SIGTERM releases, then exits). \`bench/contenders/proper-lockfile.ts\` tries
  \`lock(file, { stale, update, retries: 0, realpath: false, onCompromised })\` every poll ms; \`onCompromised\` reports
  \`lost\`; on SIGTERM it stops acting as leader, awaits \`release()\` and exits.
- Overlap times below are seconds from the start of that phase. The *smallest event delivery delay* is the least
  (orchestrator read time − contender stamp) over a phase; it would be ~0.1 ms with perfectly agreeing clocks, so a
  negative value shows how far one process's \`performance.timeOrigin\` was off (±0.5 ms seen): the error bar on every
  cross-process figure above.
- Holding intervals run from \`acquired\` to \`lost\`/\`released\`, stamped when the contender's belief changed (primacy:
  \`elected\` / \`revoked\`, which comes before the release; proper-lockfile: \`lock()\` resolved / about to call
  \`release()\`), or to the kill for a SIGKILLed holder.
- Lock files live in a fresh \`mkdtemp\` directory (removed afterwards) on the OS temp dir's file system.

${redisSection(run.redis, run.rounds, run.contenders, figure)}
${sqlEtcdSection(run.sqlEtcd, run.rounds, run.contenders, figure)}
${idlePerLockSection(run.idlePerLock, figure)}
${handOverSection(allRuns)}
## Run notes

${notes(allRuns)}
${redisNotes(run.redis)}
`;
}
