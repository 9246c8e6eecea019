/**
 * One process-wide SIGTERM/SIGINT handler for every election that asked for it. A handler per
 * election would race: the first to finish would re-raise the signal and kill the process while
 * the others were still releasing their locks.
 */
type Stopper = () => Promise<unknown>;

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
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

/** Registers `stop` to run on SIGTERM/SIGINT. Returns the unregister function. */
export function stopOnSignals(stop: Stopper): () => void {
  stoppers.add(stop);
  if (stoppers.size === 1 && !handling) for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    stoppers.delete(stop);
    if (stoppers.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
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
