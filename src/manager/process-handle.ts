/**
 * What the manager needs of a process it runs: a cluster worker (server workers, one shared port)
 * and a plain forked child (custom managed processes) both fit behind this shape.
 */
import { type ChildProcess, fork, type StdioOptions } from 'node:child_process';
import type { Worker } from 'node:cluster';

export interface ProcessHandle {
  readonly process: ChildProcess;
  send(message: unknown): unknown;
  isConnected(): boolean;
  /** Graceful: a cluster worker closes its servers first; a child just loses its IPC channel. */
  disconnect(): unknown;
  on(event: 'online' | 'listening' | 'message' | 'exit', listener: (...args: never[]) => void): unknown;
}

// A process that is exiting can still read as connected while its pipe is already closed: the
// write then fails with EPIPE, emitted as an 'error' event nobody listens for, which would crash
// the manager. A message lost to a dying process is harmless (its 'exit' is handled), so the
// failure goes to a callback that ignores it.
const ignoreSendError = () => undefined;

export function clusterHandle(worker: Worker): ProcessHandle {
  // cluster's own sends (its answer to the worker's listen request) fail the same way when the
  // worker is already exiting, and are emitted on the Worker: seen once, on a manager resumed
  // after a pause that had meanwhile given up on its workers.
  worker.on('error', ignoreSendError);
  return {
    process: worker.process,
    send: (message) => worker.isConnected() && worker.send(message as never, ignoreSendError),
    isConnected: () => worker.isConnected(),
    disconnect: () => worker.disconnect(),
    on(event, listener) {
      worker.on(event, listener as (...args: unknown[]) => void);
      return this;
    },
  };
}

/** A custom process forked from `module`, with the same bootstrap (heartbeats, no orphans) as workers. */
export function forkHandle(
  module: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  execArgv: string[],
  { cwd, stdio }: { cwd?: string | undefined; stdio: StdioOptions },
): ProcessHandle {
  const child = fork(module, args, { env: { ...process.env, ...env }, execArgv, cwd, stdio });
  // Its 'exit' is what the manager acts on; an error (a failed send, a failed kill) is not news.
  child.on('error', ignoreSendError);
  return {
    process: child,
    send: (message) => child.connected && child.send(message as never, ignoreSendError),
    isConnected: () => child.connected,
    disconnect: () => child.connected && child.disconnect(),
    on(event, listener) {
      // A child has no 'online' (it is 'spawn') and never 'listening' (it is not a cluster worker).
      if (event === 'listening') return this;
      child.on(event === 'online' ? 'spawn' : event, listener as (...args: unknown[]) => void);
      return this;
    },
  };
}
