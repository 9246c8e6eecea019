/**
 * primacy/metrics through the OpenTelemetry metrics API with the real SDK: a MeterProvider per
 * "process" (two elections on one memory lock), a periodic reader into an in-memory exporter, read
 * on demand (forceFlush) as a collector would receive the points.
 */
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { type Election, elect, MemoryLockStore, memoryLock } from 'primacy';
import { OPEN_TELEMETRY_NAMES as N, openTelemetryMetrics, RENEW_BUCKETS } from 'primacy/metrics';
import { afterEach, expect, it } from 'vitest';
import { until } from '../helpers/until.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function instance(election: Election) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // A long interval: the test reads when it wants (forceFlush), not on the reader's timer.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = openTelemetryMetrics({ meter: provider.getMeter('primacy-test') });
  metrics.observe(election);
  cleanups.push(
    () => provider.shutdown(),
    () => election.stop(),
    () => metrics.close(),
  );
  /** The metrics as last exported, by instrument name. */
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset();
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    return new Map(metrics.map((metric) => [metric.descriptor.name, metric]));
  };
  return { election, collect };
}

/** The value of the point of `metric` whose attributes include `attributes`. */
function point(metrics: Map<string, MetricData>, name: string, attributes: Record<string, string>): unknown {
  const metric = metrics.get(name);
  const points = (metric?.dataPoints ?? []) as Array<{ attributes: Record<string, unknown>; value: unknown }>;
  return points.find((p) => Object.entries(attributes).every(([key, value]) => p.attributes[key] === value))?.value;
}

it('reports role, token, transitions, attempts, renew duration in seconds and a failover, by OpenTelemetry rules', async () => {
  const store = new MemoryLockStore();
  const name = `otel-${process.pid}`;
  const quiet = { handleSignals: false, logger: false as const };
  const start = () => elect({ name, lock: memoryLock({ store }), ttl: 1500, renewInterval: 100, retryInterval: 200, jitter: 0, ...quiet });
  const a = instance(start());
  await a.election.ready;
  const b = instance(start());
  await b.election.ready;
  const election = { 'primacy.election.name': name };

  await until(
    async () => {
      const histogram = point(await a.collect(), N.renew, { ...election, 'primacy.attempt.result': 'renewed' }) as
        | { count: number }
        | undefined;
      return (histogram?.count ?? 0) >= 3;
    },
    10_000,
    'renews recorded',
  );
  await until(
    async () => (point(await b.collect(), N.attempts, { ...election, 'primacy.attempt.result': 'lost' }) as number) >= 2,
    10_000,
    'lost',
  );
  const ma = await a.collect();
  const mb = await b.collect();
  // Names, units and instrument kinds as OpenTelemetry's conventions ask: no `_total`, units apart.
  const described = (metrics: Map<string, MetricData>) =>
    Object.fromEntries([...metrics.values()].map(({ descriptor, dataPointType }) => [descriptor.name, [descriptor.unit, dataPointType]]));
  expect(described(ma)).toEqual({
    [N.primary]: ['1', DataPointType.GAUGE],
    [N.token]: ['{token}', DataPointType.GAUGE],
    [N.transitions]: ['{transition}', DataPointType.SUM],
    [N.attempts]: ['{attempt}', DataPointType.SUM],
    [N.renew]: ['s', DataPointType.HISTOGRAM],
    [N.failovers]: ['{failover}', DataPointType.SUM],
  });
  expect(point(ma, N.primary, election)).toBe(1);
  expect(point(mb, N.primary, election)).toBe(0);
  expect(point(ma, N.token, election)).toBe(a.election.token);
  expect(point(mb, N.token, election)).toBe(0);
  expect(point(ma, N.transitions, { ...election, 'primacy.election.role': 'primary' })).toBe(1);
  expect(point(ma, N.attempts, { ...election, 'primacy.attempt.result': 'won' })).toBe(1);
  expect(point(mb, N.attempts, { ...election, 'primacy.attempt.result': 'won' })).toBe(0);
  expect(point(mb, N.failovers, election)).toBe(0);
  // The advised buckets (seconds) are the ones used; a memory renew takes well under a second.
  const renew = point(ma, N.renew, { ...election, 'primacy.attempt.result': 'renewed' }) as {
    count: number;
    sum: number;
    buckets: { boundaries: number[] };
  };
  expect(renew.buckets.boundaries).toEqual(RENEW_BUCKETS);
  expect(renew.sum / renew.count).toBeLessThan(0.1);

  await a.election.stop();
  await until(() => b.election.isPrimary, 10_000, 'B elected');
  const after = await b.collect();
  expect(point(after, N.primary, election)).toBe(1);
  expect(point(after, N.token, election)).toBe(b.election.token);
  expect(point(after, N.failovers, election)).toBe(1);
  expect(point(after, N.transitions, { ...election, 'primacy.election.role': 'primary' })).toBe(1);
  const gone = await a.collect();
  expect(point(gone, N.primary, election)).toBe(0);
  expect(point(gone, N.token, election)).toBe(0);
  expect(point(gone, N.transitions, { ...election, 'primacy.election.role': 'follower' })).toBe(1);
});

it('refuses a meter that is not one, naming the option', () => {
  expect(() => openTelemetryMetrics({ meter: {} as never })).toThrow(
    "[primacy] [metrics] Expected `meter` to be an OpenTelemetry Meter (metrics.getMeter('my-app') from @opentelemetry/api), got an object (Object)",
  );
  expect(() => openTelemetryMetrics(undefined as never)).toThrow('Expected `options` to be an object with `meter`');
});
