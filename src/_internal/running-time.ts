/**
 * Time this process was running, as opposed to time that passed. Measured in small steps, each
 * crediting at most two steps' worth however long it really took, so a pause of this process
 * (SIGSTOP, a VM suspend, a debugger) is not counted against what it is judging: a manager that
 * was stopped for 7 s has not seen its workers silent for 7 s, it has not looked.
 */
export class RunningTime {
  #last: number;

  constructor(
    private readonly step: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#last = now();
  }

  /** The running time since the previous call (at most 2 × step). */
  credit(): number {
    const now = this.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    return Math.min(elapsed, 2 * this.step);
  }
}

/**
 * Calls `onTimeout` once `ms` of running time has passed (see RunningTime); returns a cancel
 * function. The check runs after pending I/O (setImmediate), so an answer that arrived while this
 * process was stopped is read before it is judged late.
 */
export function runningTimeout(ms: number, onTimeout: () => void, step = Math.max(10, Math.min(ms, 100))): () => void {
  const running = new RunningTime(step);
  let spent = 0;
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    timer = setTimeout(
      () => {
        setImmediate(() => {
          if (cancelled) return;
          spent += running.credit();
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
