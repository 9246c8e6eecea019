/**
 * One process-wide SIGTERM/SIGINT handler for every election that asked for it. A handler per
 * election would race: the first to finish would re-raise the signal and kill the process while
 * the others were still releasing their locks.
 */
type Stopper = () => Promise<unknown>;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/**
 * Emitted on `process` by the manager's bootstrap when the manager retires this worker (a reload,
 * a scale-down). An event on `process`, not a function: the bootstrap and the app may load two
 * copies of primacy (ESM and CJS builds), which share nothing else.
 */
export const RETIRING_EVENT = 'primacy:retiring';
const stoppers = new Set<Stopper>();
let handling = false;

function onSignal(signal: NodeJS.Signals): void {
  if (handling) return;
  handling = true;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  const pending = [...stoppers].map((stop) => stop().catch(() => undefined));
  stoppers.clear();
  void Promise.all(pending).then(() => {
    handling = false;
    // Someone else handles this signal (a server's graceful close): leave exiting to them.
    // Otherwise re-raise so the process ends exactly as it would have without primacy.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

/** Retired by the manager: every election steps down as on SIGTERM, but the process is the manager's to end. */
function onRetiring(): void {
  for (const stop of stoppers) void stop().catch(() => undefined);
}

/** Registers `stop` to run on SIGTERM/SIGINT, and when the manager retires this worker. Returns the unregister function. */
export function stopOnSignals(stop: Stopper): () => void {
  stoppers.add(stop);
  if (stoppers.size === 1 && !handling) {
    for (const s of SIGNALS) process.on(s, onSignal);
    process.on(RETIRING_EVENT, onRetiring);
  }
  return () => {
    stoppers.delete(stop);
    if (stoppers.size > 0) return;
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener(RETIRING_EVENT, onRetiring);
  };
}

/** Runs `stop` once `signal` aborts (at once if it already has). Returns the unregister function. */
export function stopOnAbort(signal: AbortSignal, stop: () => unknown): () => void {
  const onAbort = () => void stop();
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return () => {};
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
