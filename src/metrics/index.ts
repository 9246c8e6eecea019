/**
 * `primacy/metrics`: an election's and a worker manager's metrics for Prometheus (prom-client) and
 * for the OpenTelemetry metrics API. Both libraries are optional peer dependencies, and neither is
 * loaded until its function is called; the core never imports this module.
 */
export {
  OPEN_TELEMETRY_ATTRIBUTES,
  OPEN_TELEMETRY_NAMES,
  type OpenTelemetryMeter,
  type OpenTelemetryMetricsOptions,
  openTelemetryMetrics,
} from './opentelemetry.js';
export { type PrometheusMetricsOptions, type PrometheusRegistry, prometheusMetrics, prometheusNames } from './prometheus.js';
export { type PrimacyMetrics, RENEW_BUCKETS } from './types.js';
