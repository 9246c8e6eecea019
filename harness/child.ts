/**
 * A child Node process of a test, a bench or a chaos run, which tells its parent what happens in it
 * by printing one JSON object per line on stdout (`{"ev":"elected","pid":4242,"t":...}`). Its lines
 * become `events`, stamped on arrival; the parent waits for one that matches, signals the child and
 * waits for its exit. Every child is also listed until its pipes close, so a run that fails halfway
 * still kills every process it started (`killEverything`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { wallNow } from './clock.js';

/** A JSON object a child printed on one line: what happened (`ev`), in which process, when. */
export interface ChildEvent {
  ev: string;
  pid: number;
  /** When it happened, stamped by the child on the run's clock (clock.ts). */
  t: number;
  /** When the parent read the line, on the same clock: `received - t` bounds the delivery delay. */
  received: number;
  [field: string]: unknown;
}

/** How a child ended: its exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where a child runs, and what its parent keeps of it. */
export interface ChildOptions {
  /**
   * Another user to run as. `script` must then be plain JavaScript (bundled: that user may not be
   * able to read the repository, nor so run TypeScript through tsx); it runs in its own directory.
   */
  as?: { uid: number; gid: number };
  /** Runs there, with the tsx (and tsconfig) found there: an app outside the repository. */
  cwd?: string;
  /** Node's own flags instead of tsx's loader (`[]` runs plain JavaScript, as users do). */
  node?: string[];
  /** The clock arrivals and the exit are stamped with: the one the child stamps `t` with. */
  clock?: () => number;
  /** Keeps only the last this many characters of stderr: for a child that runs for minutes. */
  stderrTail?: number;
}

/** How many stray stdout lines a child keeps: enough to diagnose, bounded for a long run. */
const STRAY_LINES_KEPT = 200;

/** A line `primacy start --log-format prefix` relayed from a worker: `worker-0[4242] | {...}`. */
const RELAYED = /^\S+\[\d+\] \| (\{.*)$/;

/** Every child whose pipes are still open, for `killEverything`. */
const unclosed = new Set<Child>();

export class Child {
  readonly process: ChildProcess;
  /** Every JSON object the child printed on stdout, in order. */
  readonly events: ChildEvent[] = [];
  /** The first stdout lines that were no JSON object (a stray log line): only for diagnostics. */
  readonly strayLines: string[] = [];
  stderr = '';
  /** Its exit status and when it was seen; null while it runs. Set before `exited` resolves. */
  exit: (ExitStatus & { t: number }) | null = null;
  readonly exited: Promise<ExitStatus>;
  /** Resolves once it exited and its stdout and stderr are drained: every event is in `events`. */
  readonly closed: Promise<void>;
  readonly #clock: () => number;
  readonly #listeners = new Set<(event: ChildEvent) => void>();
  /** The pending `waitFor`s, each re-checked on every event and once the child is closed. */
  readonly #waiters = new Set<() => void>();
  #isClosed = false;

  constructor(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, options: ChildOptions = {}) {
    const { as, cwd, node, clock = wallNow, stderrTail } = options;
    this.#clock = clock;
    const flags = node ?? (as ? [] : ['--import', 'tsx']);
    this.process = spawn(process.execPath, [...flags, script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd && { cwd }),
      ...(as && { uid: as.uid, gid: as.gid, cwd: dirname(script) }),
    });
    unclosed.add(this);
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on('line', (line) => this.#read(line));
    this.process.stderr?.on('data', (chunk) => {
      this.stderr += chunk;
      if (stderrTail !== undefined) this.stderr = this.stderr.slice(-stderrTail);
    });
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code, signal) => {
        this.exit = { code, signal, t: this.#clock() };
        resolve({ code, signal });
      }),
    );
    this.closed = new Promise((resolve) =>
      this.process.on('close', () => {
        this.#isClosed = true;
        unclosed.delete(this);
        this.#wake();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.process.pid as number;
  }

  /** Neither exited nor killed yet (a stopped process is still running). */
  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Calls `listener` with every event from now on, as it arrives. */
  onEvent(listener: (event: ChildEvent) => void): void {
    this.#listeners.add(listener);
  }

  /**
   * Resolves with the first event from index `from` on that matches. Rejects after `timeout` ms, or
   * once the child is closed without one: nothing more can arrive. `what` names it in the error.
   */
  waitFor(match: (event: ChildEvent) => boolean, timeout = 10_000, from = 0, what = 'matching event'): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const fail = (when: string) =>
        new Error(`pid ${this.pid}: no ${what} ${when}; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`);
      const check = () => {
        const found = this.events.slice(from).find(match);
        if (found) settle(() => resolve(found));
        else if (this.#isClosed) settle(() => reject(fail(`before it exited (${this.exit?.signal ?? `code ${this.exit?.code}`})`)));
      };
      const timer = setTimeout(() => settle(() => reject(fail(`within ${timeout} ms`))), timeout);
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        outcome();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Writes one line to its stdin. */
  send(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** Sends `signal` unless it has already exited (a pid may be reused once it is reaped). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.process.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone and its pipes are drained. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.running) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  #read(line: string): void {
    const received = this.#clock();
    let parsed: unknown;
    try {
      // A worker's line relayed by `primacy start` under its name and pid is still that worker's event.
      parsed = JSON.parse(RELAYED.exec(line)?.[1] ?? line);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      if (this.strayLines.length < STRAY_LINES_KEPT) this.strayLines.push(line);
      return;
    }
    const event = { ...parsed, received } as ChildEvent;
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
    this.#wake();
  }

  #wake(): void {
    for (const check of [...this.#waiters]) check();
  }
}

/** Kills every child still running (SIGCONT first, so a stopped one can die), waits for them, empties the list. */
export async function killAll(children: Child[]): Promise<void> {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  await Promise.all(children.map((child) => child.exited));
  children.length = 0;
}

/** Last-resort cleanup, synchronous so a signal handler can run it: SIGKILLs every child still running. */
export function killEverythingNow(): Child[] {
  const running = [...unclosed].filter((child) => child.running);
  for (const child of running) child.kill('SIGKILL');
  return running;
}

/** `killEverythingNow()`, then waits (at most 5 s) until their pipes are closed. */
export async function killEverything(): Promise<void> {
  const running = killEverythingNow();
  await Promise.race([Promise.all(running.map((child) => child.closed)), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
}
