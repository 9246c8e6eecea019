/**
 * A bench child process that reports JSON lines (manager, plain cluster, load generator): keeps
 * every event, stamped on arrival too, and waits for a condition on them. Spawned through
 * `spawnTracked`, so the bench's last-resort cleanup covers it.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { now } from '../clock.js';
import { spawnTracked } from '../field.js';

export interface Event {
  ev: string;
  t: number;
  received: number;
  [field: string]: unknown;
}

export class Child {
  readonly child: ChildProcess;
  readonly events: Event[] = [];
  readonly stderr: string[] = [];
  readonly closed: Promise<void>;
  readonly #waiters = new Set<() => void>();

  constructor(script: string, args: string[]) {
    this.child = spawnTracked({ script, args }, 'pipe');
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const received = now();
      try {
        this.events.push({ ...(JSON.parse(line) as Event), received });
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
      for (const waiter of [...this.#waiters]) waiter();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (this.stderr.length < 200) this.stderr.push(line);
    });
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
    this.child.on('exit', () => {
      for (const waiter of [...this.#waiters]) waiter();
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Resolves with the first event from index `from` on that matches; rejects on timeout or exit. */
  waitFor(what: string, timeoutMs: number, match: (e: Event) => boolean, from = 0): Promise<Event> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const evaluate = () => {
        for (; scanned < this.events.length; scanned++) {
          const event = this.events[scanned] as Event;
          if (match(event)) return finish(() => resolve(event));
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(() => reject(new Error(`child exited while waiting for ${what}: ${this.stderr.slice(-5).join(' | ')}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(evaluate);
        settle();
      };
      this.#waiters.add(evaluate);
      evaluate();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone and its pipes drained. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }
}

export const benchScript = (file: string) => new URL(`./${file}`, import.meta.url).pathname;
