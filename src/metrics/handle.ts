/**
 * The object `prometheusMetrics()` and `openTelemetryMetrics()` return, the same for both: what it
 * observes, and a close that lets go of everything once. A closed instance refuses to observe
 * anything more (its metrics are unregistered: what it recorded would reach no one).
 */
import { PrimacyError } from '../errors.js';
import type { ObservedElections } from './election-watch.js';
import type { ObservedManager } from './manager-watch.js';
import type { PrimacyMetrics } from './types.js';

export function metricsHandle(elections: ObservedElections, manager: ObservedManager, unregister: () => void): PrimacyMetrics {
  let closed = false;
  const stillOpen = (call: string) => {
    if (closed)
      throw new PrimacyError('ERR_PRIMACY_METRICS_CLOSED', `[primacy] [metrics] ${call}: this metrics instance was closed; create another`);
  };
  return {
    observe(election) {
      stillOpen('observe()');
      return elections.add(election);
    },
    observeManager(observed) {
      stillOpen('observeManager()');
      return manager.add(observed);
    },
    close() {
      if (closed) return;
      closed = true;
      elections.close();
      manager.close();
      unregister();
    },
  };
}
