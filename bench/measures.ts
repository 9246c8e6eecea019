/**
 * One flat list of what the bench measured, one entry per chart: which contender, which samples,
 * their summary and, for a peer, its ratio to the primacy adapter it stands beside. Derived from the
 * recorded run (bench/results.ts), so the charts show exactly the numbers the tables print.
 */
import type { ContenderRun, KillSignal } from './failover.js';
import { CONCURRENCY, WORKERS } from './manager/http.js';
import type { MainRun, ManagerRun } from './results.js';
import { type Summary, summarize } from './stats.js';

export interface MeasureRow {
  label: string;
  settings?: string;
  /** One per round (failover, ms) or per alternating slice (throughput); empty when measured once. */
  samples: number[];
  summary: Summary | null;
  /** What the chart compares: p50 for a distribution, the overall rate for a bar. */
  value: number;
  primacy: boolean;
  /** A peer's comparison: the primacy row it stands beside, and value ÷ that row's value. */
  versus?: { label: string; ratio: number };
}

export interface Measure {
  /** The chart's file name in bench/charts/ (without .svg). */
  id: string;
  kind: 'distribution' | 'bars';
  title: string;
  /** How to read it, under the title. */
  caption: string;
  unit: string;
  /** The run it comes from: the manager part may be a separate one. */
  from: 'main' | 'manager';
  rows: MeasureRow[];
}

/** `nodes` and `group` (a backend) decide which primacy row a peer is compared with. */
type Row = Omit<MeasureRow, 'summary' | 'primacy' | 'versus'> & { nodes?: number; group?: string };

const isPrimacy = (label: string) => label.startsWith('primacy');
const nodesOf = (label: string) => (/\(3 nodes\)/.test(label) ? 3 : 1);

/**
 * Peers are compared with the primacy row of their group (a backend) on as many nodes (redlock on 3
 * nodes with primacy's redlock adapter), else with the first primacy row: the same like-for-like
 * rule as the tables.
 */
function compare(rows: readonly Row[]): MeasureRow[] {
  const primacyRows = rows.filter((r) => isPrimacy(r.label));
  return rows.map(({ nodes, group, ...row }) => {
    const primacy = isPrimacy(row.label);
    const base = primacyRows.find((p) => p.group === group && (p.nodes ?? 1) === (nodes ?? 1)) ?? primacyRows[0];
    const out: MeasureRow = { ...row, summary: row.samples.length ? summarize(row.samples) : null, primacy };
    if (!primacy && base && base.value > 0 && Number.isFinite(row.value)) out.versus = { label: base.label, ratio: row.value / base.value };
    return out;
  });
}

function failoverRows(runs: readonly (ContenderRun & { backend?: string })[], signal: KillSignal, byNodes: boolean): Row[] {
  const rows: Row[] = [];
  for (const run of runs) {
    const result = run.results[signal];
    if (!result?.samples.length) continue;
    const p50 = summarize(result.samples).p50;
    const nodes = byNodes ? nodesOf(run.label) : 1;
    rows.push({ label: run.label, settings: run.settings, samples: result.samples, value: p50, nodes, group: run.backend });
  }
  return grouped(rows);
}

/**
 * Each group (a backend, then as many nodes) together, primacy first, so every peer sits under the
 * row it is compared with; groups keep the order they came in.
 */
function grouped(rows: Row[]): Row[] {
  const groups = [...new Set(rows.map((r) => r.group ?? ''))];
  return rows.sort(
    (a, b) =>
      groups.indexOf(a.group ?? '') - groups.indexOf(b.group ?? '') ||
      (a.nodes ?? 1) - (b.nodes ?? 1) ||
      Number(isPrimacy(b.label)) - Number(isPrimacy(a.label)),
  );
}

const DOTS = 'each dot is one round; thick tick p50, dashed tick p95';

function mainMeasures(main: MainRun): Measure[] {
  const measures: Measure[] = [];
  const setup = `${main.contenders} contenders on one lock, ${main.rounds} rounds; ${DOTS}`;
  const what = { SIGKILL: 'failover after SIGKILL of the holder', SIGTERM: 'hand-over after SIGTERM of the holder' } as const;
  const parts = [
    { prefix: 'file', name: 'File lock', runs: main.runs, byNodes: false },
    { prefix: 'redis', name: 'Redis', runs: main.redis?.runs ?? [], byNodes: true },
    { prefix: 'sql-etcd', name: 'PostgreSQL, MySQL, etcd', runs: main.sqlEtcd?.runs ?? [], byNodes: false },
  ];
  for (const { prefix, name, runs, byNodes } of parts) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const rows = failoverRows(runs, signal, byNodes);
      if (!rows.length) continue;
      const title = `${name}: ${what[signal]} (ms, log scale)`;
      measures.push({
        id: `${prefix}-${signal.toLowerCase()}`,
        kind: 'distribution',
        title,
        caption: setup,
        unit: 'ms',
        from: 'main',
        rows: compare(rows),
      });
    }
  }
  const bars = (id: string, title: string, caption: string, unit: string, rows: Row[]) => {
    if (rows.length) measures.push({ id, kind: 'bars', title, caption, unit, from: 'main', rows: compare(rows) });
  };
  const { micro, redis } = main;
  const sliced = 'bar: all slices together; dots: each alternating slice';
  if (micro) {
    bars('file-throughput', 'File lock: uncontended acquire + release per second', `one process, adapter level; ${sliced}`, 'ops/s', [
      { label: 'primacy file', samples: micro.primacySlices, value: micro.primacyOpsPerSec },
      { label: 'proper-lockfile defaults', samples: micro.properLockfileSlices, value: micro.properLockfileOpsPerSec },
    ]);
  }
  const ops = redis?.ops?.results ?? [];
  const opsRows = ops.map((r) => ({ label: r.label, samples: r.slices, value: r.opsPerSec, nodes: r.nodes }));
  bars('redis-throughput', 'Redis: uncontended acquire + release per second', `one process; ${sliced}`, 'ops/s', opsRows);
  const contention = (redis?.contention ?? []).map((r) => ({ label: r.label, samples: [], value: r.acquisitionsPerSec, nodes: r.nodes }));
  bars('redis-contention', 'Redis: acquisitions per second, 4 processes contending', 'all processes together, 3 s', 'acq/s', contention);
  const idle = (redis?.idle ?? []).map(({ label, nodes, result }) => ({ label, samples: [], value: result.perFollower, nodes }));
  bars('redis-idle', 'Redis: commands per second per idle follower (lower is cheaper)', 'summed over the nodes', 'cmd/s', grouped(idle));
  const perLock = main.idlePerLock;
  if (perLock) {
    const rows = perLock.backends.flatMap((b) =>
      b.levels.map((level) => ({
        label: `${b.label}, ${level.followers} ${level.followers === 1 ? 'follower' : 'followers'}`,
        samples: [],
        value: level.perSec,
      })),
    );
    const caption = `holder + N idle followers of one lock, counted by the server over ${perLock.windowSeconds} s (commands, statements or requests); goal ≤ ${perLock.goalPerSec} at 200`;
    bars('idle-per-lock', 'Idle cost per lock, per second (lower is cheaper)', caption, 'per s', rows);
  }
  return measures;
}

function managerMeasures({ result }: ManagerRun): Measure[] {
  const measures: Measure[] = [];
  const f = result.failover;
  const figures: Row[] = f
    ? [
        { label: 'SIGKILL primary → new primary elected', samples: f.primary.map((s) => s.ms), value: 0 },
        { label: 'SIGKILL worker → replacement acked', samples: f.worker.map((s) => s.ms), value: 0 },
        { label: '… replacement’s own boot', samples: [...f.primary, ...f.worker].map((s) => s.bootMs), value: 0 },
        { label: 'SIGSTOP worker → hung detected', samples: f.hang.map((h) => h.hungMs), value: 0 },
      ].filter((r) => r.samples.length)
    : [];
  if (figures.length) {
    measures.push({
      id: 'manager-failover',
      kind: 'distribution',
      title: 'Worker manager: failover and replacement (ms, log scale)',
      caption: `${f?.workers ?? 4} workers under primacy's WorkerManager; ${DOTS}`,
      unit: 'ms',
      from: 'manager',
      // Figures of one manager, not contenders: nothing to compare, so no row counts as a peer.
      rows: figures.map((r) => ({ ...r, value: summarize(r.samples).p50, summary: summarize(r.samples), primacy: true })),
    });
  }
  const http = (result.throughput ?? []).map((t) => ({ label: t.label, samples: t.slices.map((s) => s.rps), value: t.rps }));
  if (http.length) {
    const caption = `same app, ${WORKERS} workers, ${CONCURRENCY} keep-alive connections; bar: all slices together; dots: each slice`;
    measures.push({
      id: 'manager-http',
      kind: 'bars',
      title: 'HTTP requests per second by supervisor',
      caption,
      unit: 'req/s',
      from: 'manager',
      rows: compare(http),
    });
  }
  const reloads = (result.reloads ?? []).map((x) => ({
    label: `${x.label}, ${x.mode === 'keep-alive' ? 'keep-alive' : 'new connections'}`,
    samples: [],
    value: Object.values(x.load.failures).reduce((a, b) => a + b, 0),
    summary: null,
    primacy: isPrimacy(x.label),
  }));
  if (reloads.length) {
    const caption = `requests without a 200 while all ${WORKERS} workers are restarted, none retried (lower is better)`;
    measures.push({
      id: 'manager-reload',
      kind: 'bars',
      title: 'Failed requests during a rolling reload',
      caption,
      unit: 'failed',
      from: 'manager',
      rows: reloads,
    });
  }
  return measures;
}

export function measuresOf(main: MainRun | null, manager: ManagerRun | null): Measure[] {
  return [...(main ? mainMeasures(main) : []), ...(manager ? managerMeasures(manager) : [])];
}
