import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** A JSON line a child printed, with the child's pid and a wall-clock `t` (ms, sub-ms precision). */
export interface ChildEvent {
  ev: string;
  pid: number;
  t: number;
  [key: string]: unknown;
}

/** Where a child runs: as another user, or in another directory. */
export interface ChildPlacement {
  as?: { uid: number; gid: number };
  cwd?: string;
  node?: string[];
}

/** One child process running a TypeScript script, whose JSON stdout lines are collected as events. */
export class Child {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly process: ChildProcess;
  stderr = '';
  #waiters = new Set<() => void>();

  /**
   * `as`: run as another user, a plain JavaScript `script` (bundled: that user may not be able to
   * read the repository, nor so run TypeScript through tsx), with the script's directory as cwd.
   * `cwd`: run there, with the tsx (and tsconfig) found there: an app outside the repository.
   * `node`: node's own flags instead of tsx's loader (`[]` runs plain JavaScript as users do).
   */
  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}, { as, cwd, node }: ChildPlacement = {}) {
    const flags = node ?? (as ? [] : ['--import', 'tsx']);
    this.process = spawn(process.execPath, [...flags, script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd && { cwd }),
      ...(as && { uid: as.uid, gid: as.gid, cwd: dirname(script) }),
    });
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent);
      } catch {
        return; // not one of ours
      }
      for (const wake of this.#waiters) wake();
    });
    this.process.stderr?.on('data', (chunk) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  get pid(): number {
    return this.process.pid as number;
  }

  /** Resolves with the first event (from `from` on) that matches, or rejects after `timeout` ms. */
  waitFor(match: (event: ChildEvent) => boolean, timeout = 10_000, from = 0): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(match);
        if (found) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `pid ${this.pid}: no matching event within ${timeout} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`,
          ),
        );
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  send(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
  }
}

/** The wall clock the children stamp their events with. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Kills every child still running (SIGCONT first, so a stopped one can die) and waits for them. */
export async function killAll(children: Child[]): Promise<void> {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  await Promise.all(children.map((child) => child.exited));
  children.length = 0;
}

/**
 * Whether `pid` is a running process: it exists and is not a zombie. A killed process whose parent
 * died first is reparented to PID 1, which in some sandboxes never reaps it: dead, but still listed.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** What a finished command printed and how it ended. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end, stdin closed, without blocking this process (children started with `Child` keep
 * being read meanwhile). Never throws for a non-zero exit: the caller asserts on `code`.
 */
export function runCommand(
  file: string,
  args: string[],
  { cwd, env = {}, timeout = 120_000 }: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const options = { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20, encoding: 'utf8' as const };
    const child = execFile(file, args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr });
    });
    child.stdin?.end(); // closed: a command that would ask a question sees no terminal, as in CI
  });
}
