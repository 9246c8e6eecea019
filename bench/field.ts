/**
 * A field of contender processes on one lock: spawns them (harness Children, so the bench's
 * last-resort `killEverything` covers them), reads their state from their events (ready? holding?),
 * and lets the orchestrator wait for a condition on the whole field.
 */
import { Child } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import type { ContenderEvent } from './contenders/emit.js';

export interface ContenderSpec {
  /** Absolute path of the contender script. */
  script: string;
  args: string[];
}

export interface ReceivedEvent extends ContenderEvent {
  /** When the orchestrator read the line (shared clock): `received - t` bounds cross-process skew. */
  received: number;
}

/** How many lines of a child's own output the results keep. */
const WARNING_LINES = 200;

/** A bench child's stray stdout lines (marked `(stdout)`) and its stderr lines, the first 200: its warnings. */
export function warningLines(child: Child): string[] {
  const lines = [...child.strayLines.map((line) => `(stdout) ${line}`), ...child.stderr.split('\n').filter(Boolean)];
  return lines.slice(0, WARNING_LINES);
}

export class Contender {
  /** The signal the orchestrator sent it on purpose, and when (just before the syscall). */
  signalled: { signal: NodeJS.Signals; t: number } | null = null;

  constructor(readonly child: Child) {}

  get pid(): number {
    return this.child.pid;
  }

  get events(): readonly ReceivedEvent[] {
    return this.child.events as unknown as ReceivedEvent[];
  }

  get exit(): Child['exit'] {
    return this.child.exit;
  }

  /** Resolves once the process exited and its stdout is drained (every event is in `events`). */
  get closed(): Promise<void> {
    return this.child.closed;
  }

  /** It has said it is ready (started campaigning). */
  get ready(): boolean {
    return this.events.some((e) => e.ev === 'ready');
  }

  /** Alive, and its last word on the lock was `acquired`. */
  get holding(): boolean {
    const last = this.events.findLast((e) => e.ev === 'acquired' || e.ev === 'lost' || e.ev === 'released');
    return this.exit === null && last?.ev === 'acquired';
  }

  /** What it said besides its events, as the results keep it (see `warningLines`). */
  get stderr(): string[] {
    return warningLines(this.child);
  }

  /** Sends `signal`, stamping the moment just before the syscall: failover is measured from it. */
  signal(signal: NodeJS.Signals): number {
    const t = wallNow();
    this.signalled = { signal, t };
    this.child.kill(signal);
    return t;
  }

  describe(): string {
    const exit = this.exit ? ` exited code=${this.exit.code} signal=${this.exit.signal}` : '';
    return `pid ${this.pid}${exit}; stderr: ${this.stderr.slice(-5).join(' | ') || '(none)'}`;
  }
}

export class Field {
  /** Everyone spawned in this field, in order, including the dead. */
  readonly contenders: Contender[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(readonly spec: ContenderSpec) {}

  spawn(): Contender {
    const child = new Child(this.spec.script, this.spec.args);
    if (child.process.pid === undefined) throw new Error('contender failed to spawn');
    child.onEvent(() => this.#changed());
    void child.exited.then(() => this.#changed());
    const contender = new Contender(child);
    this.contenders.push(contender);
    return contender;
  }

  /** Contenders neither signalled nor exited. */
  get live(): Contender[] {
    return this.contenders.filter((c) => c.signalled === null && c.exit === null);
  }

  /**
   * Resolves with `check()`'s first defined answer, re-evaluated on every event. Rejects on
   * timeout, or at once if a contender nobody signalled exits (a crash is a bench failure).
   */
  waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const evaluate = () => {
        const crashed = this.contenders.find((c) => c.exit !== null && c.signalled === null);
        if (crashed) return finish(() => reject(new Error(`contender crashed while waiting for ${what}: ${crashed.describe()}`)));
        const answer = check();
        if (answer !== undefined) finish(() => resolve(answer));
      };
      const timer = setTimeout(() => {
        const state = this.live.map((c) => `${c.pid}:${c.ready ? 'ready' : 'starting'}${c.holding ? '+holding' : ''}`).join(' ');
        finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (live: ${state})`)));
      }, timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(evaluate);
        settle();
      };
      this.#waiters.add(evaluate);
      evaluate();
    });
  }

  /** SIGKILLs whoever is still running and waits until every stdout is drained. */
  async killAll(): Promise<void> {
    for (const c of this.contenders) if (c.exit === null && c.signalled?.signal !== 'SIGKILL') c.signal('SIGKILL');
    await Promise.all(this.contenders.map((c) => c.closed));
  }

  #changed(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
