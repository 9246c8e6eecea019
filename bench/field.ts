/**
 * A field of contender processes on one lock: spawns them, turns their JSON lines into state
 * (ready? holding?), and lets the orchestrator wait for a condition on that state. Every process
 * ever spawned is also kept in a module-wide registry so `killEverything()` leaves none behind,
 * whatever went wrong.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { now } from './clock.js';
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

const everyone = new Set<ChildProcess>();

export class Contender {
  readonly pid: number;
  readonly events: ReceivedEvent[] = [];
  readonly stderr: string[] = [];
  ready = false;
  holding = false;
  signalled: { signal: NodeJS.Signals; t: number } | null = null;
  exit: { t: number; code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** Resolves once the process exited and its stdout is drained (every event is in `events`). */
  readonly closed: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    onChange: () => void,
  ) {
    if (child.pid === undefined) throw new Error('contender failed to spawn');
    this.pid = child.pid;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const received = now();
      let event: ContenderEvent;
      try {
        event = JSON.parse(line) as ContenderEvent;
      } catch {
        this.stderr.push(`(stdout) ${line}`);
        return;
      }
      this.events.push({ ...event, received });
      if (event.ev === 'ready') this.ready = true;
      else if (event.ev === 'acquired') this.holding = true;
      else if (event.ev === 'lost' || event.ev === 'released') this.holding = false;
      onChange();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (this.stderr.length < 200) this.stderr.push(line);
    });
    child.on('exit', (code, signal) => {
      this.exit = { t: now(), code, signal };
      this.holding = false;
      onChange();
    });
    this.closed = new Promise((resolve) => child.on('close', () => resolve()));
  }

  /** Sends `signal`, stamping the moment just before the syscall: failover is measured from it. */
  signal(signal: NodeJS.Signals): number {
    const t = now();
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
    const child = spawnTracked(this.spec, 'ignore');
    const contender = new Contender(child, () => this.#changed());
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

/** Spawns `node --import tsx <script> <args>` and registers it, so the cleanup below covers it. */
export function spawnTracked(spec: ContenderSpec, stdin: 'ignore' | 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', spec.script, ...spec.args], { stdio: [stdin, 'pipe', 'pipe'] });
  everyone.add(child);
  child.once('close', () => everyone.delete(child));
  return child;
}

/** Last-resort cleanup, synchronous so it can run from a signal handler: SIGKILL every process left. */
export function killEverythingNow(): ChildProcess[] {
  const running = [...everyone].filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill('SIGKILL');
  return running;
}

/** `killEverythingNow()`, then wait (at most 5 s) until they are reaped. */
export async function killEverything(): Promise<void> {
  const running = killEverythingNow();
  const closed = running.map((child) => new Promise<void>((resolve) => child.once('close', () => resolve())));
  await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
}
