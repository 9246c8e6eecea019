/**
 * primacy's metrics in prom-client. prom-client is loaded only when `prometheusMetrics()` is called,
 * so `primacy/metrics` costs nothing to an app that uses only its OpenTelemetry side.
 */

import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { checksFor } from '../_internal/checks.js';
import { PrimacyConfigError } from '../errors.js';
import { ObservedElections } from './election-watch.js';
import { metricsHandle } from './handle.js';
import { ObservedManager } from './manager-watch.js';
import { renewBuckets } from './options.js';
import type { MetricsSink, PrimacyMetrics } from './types.js';

/** The part of a prom-client `Registry` used here (any prom-client 14 or 15 registry has it). */
export interface PrometheusRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. @default prom-client's global `register` */
  registry?: PrometheusRegistry;
  /**
   * Prepended to every `primacy_*` name (`'myapp_'`: `myapp_primacy_transitions_total`), not to
   * `leader_election_master_status`, the exact name Kubernetes dashboards chart. @default ''
   */
  prefix?: string;
  /** Bucket bounds of the renew latency histogram, in seconds. @default 1 ms to 10 s */
  buckets?: readonly number[];
}

/** The metric names: Prometheus's rules (snake_case, base units, `_total` on counters). */
export function prometheusNames(prefix = '') {
  return {
    status: 'leader_election_master_status',
    token: `${prefix}primacy_fencing_token`,
    transitions: `${prefix}primacy_transitions_total`,
    attempts: `${prefix}primacy_acquire_attempts_total`,
    renew: `${prefix}primacy_renew_duration_seconds`,
    failovers: `${prefix}primacy_failovers_total`,
    workers: `${prefix}primacy_manager_workers`,
    restarts: `${prefix}primacy_manager_restarts_total`,
    hangs: `${prefix}primacy_manager_hangs_total`,
  };
}

const KEYS = ['registry', 'prefix', 'buckets'];
const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const requireFromHere = createRequire(import.meta.url);

/**
 * Registers primacy's metrics in a prom-client registry and returns the handle that observes
 * elections (`observe(election)`) and a worker manager (`observeManager(manager)`). Serve the
 * registry's `metrics()` at `/metrics` as usual.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrimacyMetrics {
  const check = checksFor('prometheusMetrics()', 'metrics');
  check.options(options, KEYS);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !PREFIX.test(prefix))) {
    check.fail('prefix', prefix, "a Prometheus name prefix such as 'myapp_' (letters, digits, _ and :, not first a digit)");
  }
  if (options.registry !== undefined) {
    check.shape('registry', options.registry, ['registerMetric', 'getSingleMetric', 'removeSingleMetric'], 'a prom-client Registry');
  }
  const buckets = renewBuckets(check, options.buckets);
  const client = loadPromClient();
  const registry = (options.registry ?? client.register) as PromClient.Registry;
  const names = prometheusNames(prefix);
  for (const name of Object.values(names)) {
    if (registry.getSingleMetric(name)) {
      // leader_election_master_status takes no prefix (dashboards chart it by that name).
      const way = name === names.status ? 'one per registry' : 'or give another `prefix`';
      const why = `prometheusMetrics(): the registry already has a metric named ${name} (close() the previous prometheusMetrics(), ${way})`;
      throw new PrimacyConfigError('registry', options.registry, '', 'metrics', why);
    }
  }
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[]) => new client.Counter({ name, help, labelNames, registers });
  const transitions = counter(names.transitions, 'Times this process became primary (to="primary") or stopped being it (to="follower").', [
    'name',
    'to',
  ]);
  const attempts = counter(names.attempts, 'Attempts to acquire the lock, by result: won, lost (another holds it) or error.', [
    'name',
    'result',
  ]);
  const failovers = counter(names.failovers, 'Times this process saw the lock pass from one holder to another.', ['name']);
  const restarts = counter(names.restarts, 'Workers the manager restarted after they exited (crashed, hung, unhealthy).', ['worker']);
  const hangs = counter(names.hangs, 'Workers the manager killed as hung (no heartbeat within heartbeatTimeout).', ['worker']);
  const renew = new client.Histogram({
    name: names.renew,
    help: 'How long a renew of the lease took, in seconds, by result: renewed, lost or error.',
    labelNames: ['name', 'result'],
    buckets,
    registers,
  });
  const sink: MetricsSink = {
    electionSeen(name) {
      for (const to of ['primary', 'follower']) transitions.inc({ name, to }, 0);
      for (const result of ['won', 'lost', 'error']) attempts.inc({ name, result }, 0);
      failovers.inc({ name }, 0);
    },
    transition: (name, to) => transitions.inc({ name, to }),
    attempt: (name, result) => attempts.inc({ name, result }),
    renew: (name, result, seconds) => renew.observe({ name, result }, seconds),
    failover: (name) => failovers.inc({ name }),
    workerSeen(worker) {
      restarts.inc({ worker }, 0);
      hangs.inc({ worker }, 0);
    },
    restart: (worker) => restarts.inc({ worker }),
    hang: (worker) => hangs.inc({ worker }),
  };
  const elections = new ObservedElections(sink, check);
  const manager = new ObservedManager(sink, check);
  // The gauges are read at each scrape: the role is computed on the election's own clock then.
  new client.Gauge({
    name: names.status,
    help: 'Whether this process is the primary (1) or a follower (0) of the lock `name` (client-go leader election gauge).',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const election of elections.live()) this.set({ name: election.name }, election.isPrimary ? 1 : 0);
    },
  });
  new client.Gauge({
    name: names.token,
    help: 'The fencing token of the lease this process holds; 0 while it is not primary.',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const election of elections.live()) this.set({ name: election.name }, election.token ?? 0);
    },
  });
  new client.Gauge({
    name: names.workers,
    help: 'Workers of the observed manager, by state.',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const [state, count] of manager.workersByState() ?? []) this.set({ state }, count);
    },
  });
  return metricsHandle(elections, manager, () => {
    for (const name of Object.values(names)) registry.removeSingleMetric(name);
  });
}

function loadPromClient(): typeof PromClient {
  try {
    return requireFromHere('prom-client') as typeof PromClient;
  } catch (cause) {
    const why = 'prometheusMetrics() needs the prom-client package (npm install prom-client)';
    const error = new PrimacyConfigError('prom-client', undefined, '', 'metrics', why);
    error.cause = cause;
    throw error;
  }
}
