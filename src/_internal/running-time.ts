/**
 * Calls `onTimeout` once `ms` of this process's *running* time has passed, as opposed to time that
 * passed: measured in small steps, each crediting at most two steps however long it really took,
 * so a pause of this process (SIGSTOP, a VM suspend, a debugger) is not counted against what it is
 * judging (a manager stopped for 7 s has not waited 7 s for its workers: it has not looked). Each
 * look runs after pending I/O (setImmediate), so an answer that arrived meanwhile is read before it
 * is judged late. Returns a cancel function.
 */
export function runningTimeout(ms: number, onTimeout: () => void, step = Math.max(10, Math.min(ms, 100))): () => void {
  let spent = 0;
  let last = performance.now();
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    timer = setTimeout(
      () => {
        setImmediate(() => {
          if (cancelled) return;
          const now = performance.now();
          spent += Math.min(now - last, 2 * step);
          last = now;
          if (spent >= ms) onTimeout();
          else look();
        });
      },
      Math.min(step, ms - spent),
    );
    timer.unref();
  };
  look();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
