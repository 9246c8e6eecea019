/**
 * primacy's metrics through the OpenTelemetry metrics API. Nothing of OpenTelemetry is imported:
 * the app passes its own `Meter` (`metrics.getMeter('my-app')`), so the SDK and exporters are its choice.
 */

import { checksFor } from '../_internal/checks.js';
import { ObservedElections } from './election-watch.js';
import { metricsHandle } from './handle.js';
import { ObservedManager } from './manager-watch.js';
import { renewBuckets } from './options.js';
import type { MetricsSink, PrimacyMetrics } from './types.js';

type Attributes = Record<string, string>;
interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}
interface Observable {
  addCallback(callback: (result: { observe(value: number, attributes?: Attributes): void }) => void): void;
  removeCallback(callback: (result: { observe(value: number, attributes?: Attributes): void }) => void): void;
}

/** The part of an OpenTelemetry `Meter` (@opentelemetry/api 1.x) used here. */
export interface OpenTelemetryMeter {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: Attributes): void };
  createHistogram(name: string, options?: InstrumentOptions): { record(value: number, attributes?: Attributes): void };
  createObservableGauge(name: string, options?: InstrumentOptions): Observable;
  createObservableUpDownCounter(name: string, options?: InstrumentOptions): Observable;
}

export interface OpenTelemetryMetricsOptions {
  /** The meter the instruments are created on: `metrics.getMeter('my-app')` from @opentelemetry/api. */
  meter: OpenTelemetryMeter;
  /** Bucket bounds advised for the renew duration histogram, in seconds. @default 1 ms to 10 s */
  buckets?: readonly number[];
}

/** The instrument names: OpenTelemetry's rules (dotted namespaces, no `_total`, units apart). */
export const OPEN_TELEMETRY_NAMES = {
  primary: 'primacy.election.primary',
  token: 'primacy.election.fencing_token',
  transitions: 'primacy.election.transitions',
  attempts: 'primacy.election.acquire.attempts',
  renew: 'primacy.election.renew.duration',
  failovers: 'primacy.election.failovers',
  workers: 'primacy.manager.workers',
  restarts: 'primacy.manager.restarts',
  hangs: 'primacy.manager.hangs',
} as const;

/** The attribute keys, namespaced as OpenTelemetry asks. */
export const OPEN_TELEMETRY_ATTRIBUTES = {
  name: 'primacy.election.name',
  /** The role a transition entered: primary or follower. */
  role: 'primacy.election.role',
  result: 'primacy.attempt.result',
  worker: 'primacy.worker.name',
  state: 'primacy.worker.state',
} as const;

/**
 * Creates primacy's instruments on an OpenTelemetry meter and returns the handle that observes
 * elections (`observe(election)`) and a worker manager (`observeManager(manager)`).
 */
export function openTelemetryMetrics(options: OpenTelemetryMetricsOptions): PrimacyMetrics {
  const check = checksFor('openTelemetryMetrics()', 'metrics');
  check.options(options, ['meter', 'buckets'], 'an object with `meter`');
  const { meter } = options;
  const methods = ['createCounter', 'createHistogram', 'createObservableGauge', 'createObservableUpDownCounter'];
  check.shape('meter', meter, methods, "an OpenTelemetry Meter (metrics.getMeter('my-app') from @opentelemetry/api)");
  const buckets = renewBuckets(check, options.buckets);
  const N = OPEN_TELEMETRY_NAMES;
  const A = OPEN_TELEMETRY_ATTRIBUTES;
  const transitions = meter.createCounter(N.transitions, {
    unit: '{transition}',
    description: 'Times this process became primary or stopped being it.',
  });
  const attempts = meter.createCounter(N.attempts, {
    unit: '{attempt}',
    description: 'Attempts to acquire the lock, by result: won, lost or error.',
  });
  const failovers = meter.createCounter(N.failovers, {
    unit: '{failover}',
    description: 'Times this process saw the lock pass from one holder to another.',
  });
  const restarts = meter.createCounter(N.restarts, { unit: '{restart}', description: 'Workers the manager restarted after they exited.' });
  const hangs = meter.createCounter(N.hangs, { unit: '{hang}', description: 'Workers the manager killed as hung.' });
  const renew = meter.createHistogram(N.renew, {
    unit: 's',
    description: 'How long a renew of the lease took, by result: renewed, lost or error.',
    advice: { explicitBucketBoundaries: buckets },
  });
  const sink: MetricsSink = {
    electionSeen(name) {
      for (const role of ['primary', 'follower']) transitions.add(0, { [A.name]: name, [A.role]: role });
      for (const result of ['won', 'lost', 'error']) attempts.add(0, { [A.name]: name, [A.result]: result });
      failovers.add(0, { [A.name]: name });
    },
    transition: (name, role) => transitions.add(1, { [A.name]: name, [A.role]: role }),
    attempt: (name, result) => attempts.add(1, { [A.name]: name, [A.result]: result }),
    renew: (name, result, seconds) => renew.record(seconds, { [A.name]: name, [A.result]: result }),
    failover: (name) => failovers.add(1, { [A.name]: name }),
    workerSeen(worker) {
      restarts.add(0, { [A.worker]: worker });
      hangs.add(0, { [A.worker]: worker });
    },
    restart: (worker) => restarts.add(1, { [A.worker]: worker }),
    hang: (worker) => hangs.add(1, { [A.worker]: worker }),
  };
  const elections = new ObservedElections(sink, check);
  const manager = new ObservedManager(sink, check);
  // Observed at each collection: the role is computed on the election's own clock then.
  const observables: Array<[Observable, Parameters<Observable['addCallback']>[0]]> = [
    [
      meter.createObservableGauge(N.primary, { unit: '1', description: 'Whether this process is the primary (1) or a follower (0).' }),
      (result) => {
        for (const election of elections.live()) result.observe(election.isPrimary ? 1 : 0, { [A.name]: election.name });
      },
    ],
    [
      meter.createObservableGauge(N.token, { unit: '{token}', description: 'The fencing token of the lease held; 0 while not primary.' }),
      (result) => {
        for (const election of elections.live()) result.observe(election.token ?? 0, { [A.name]: election.name });
      },
    ],
    [
      meter.createObservableUpDownCounter(N.workers, { unit: '{worker}', description: 'Workers of the observed manager, by state.' }),
      (result) => {
        for (const [state, count] of manager.workersByState() ?? []) result.observe(count, { [A.state]: state });
      },
    ],
  ];
  for (const [observable, callback] of observables) observable.addCallback(callback);
  return metricsHandle(elections, manager, () => {
    for (const [observable, callback] of observables) observable.removeCallback(callback);
  });
}
