/**
 * Starts a slot's next process: a server worker through node:cluster (one shared port), a custom
 * Node module forked with the worker bootstrap, or a config's `command` through the command
 * runner (command-runner.ts: process group, signals passed on, no orphans, memory reported).
 */
import type { StdioOptions } from 'node:child_process';
import cluster from 'node:cluster';
import { commandRunnerPath, workerExecArgv } from './bootstrap-url.js';
import type { Slot } from './incarnation.js';
import { clusterHandle, forkHandle, type ProcessHandle } from './process-handle.js';

export function startProcess(slot: Slot, env: Record<string, string>, killTimeout: number, stdio: StdioOptions): ProcessHandle {
  const { custom } = slot;
  if (!custom) return clusterHandle(cluster.fork(env));
  if (custom.module !== undefined) return forkHandle(custom.module, custom.args, env, workerExecArgv(), { cwd: custom.cwd, stdio });
  const argv = [...(custom.command ?? []), ...custom.args];
  const runnerEnv = {
    ...env,
    PRIMACY_COMMAND: JSON.stringify(argv),
    PRIMACY_KILL_TIMEOUT: String(killTimeout),
    ...(custom.cwd === undefined ? {} : { PRIMACY_COMMAND_CWD: custom.cwd }),
  };
  // The runner is ours: it runs where the manager does, with its flags (its loader, in development)
  // and without the app bootstrap; the command runs in the app's directory.
  return forkHandle(commandRunnerPath(), [], runnerEnv, process.execArgv, { stdio });
}
