/** A child Node process running a TypeScript file, whose stdout JSON lines are handed to a callback. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { hostNow } from './protocol.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the orchestrator saw the exit (host monotonic ms). */
  t: number;
}

export class ScriptProcess {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  /** The last few KB of stderr, for error messages. */
  stderr = '';

  constructor(script: string, env: NodeJS.ProcessEnv, onLine: (line: Record<string, unknown>) => void) {
    this.process = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        return; // not one of ours (a stray log line)
      }
      if (typeof line === 'object' && line !== null) onLine(line as Record<string, unknown>);
    });
    this.process.stderr?.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal, t: hostNow() })));
  }

  get pid(): number {
    return this.process.pid as number;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }
}

/** Sends a signal to a pid, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: it died meanwhile (the manager may have replaced it); nothing to do.
  }
}
