/**
 * Runs one command of a config's app (`command: 'python3 queue-worker.py'`), forked by the
 * manager in its place. Any program fits (no IPC, no heartbeats of its own), so this small Node
 * process stands between them and keeps the manager's promises for it:
 * - no orphans: the command runs in its own process group, and when the manager is gone (the IPC
 *   channel closes, even after a SIGKILL) the group gets SIGTERM, then SIGKILL after the kill
 *   timeout; this runner exits only once the command has;
 * - a graceful stop: SIGTERM (and the manager's drain) is passed on to the whole group, as a
 *   PaaS does, and the command's own exit (code or signal) becomes this runner's;
 * - liveness and memory: heartbeats carry the resident memory of the command and its
 *   descendants, so a memory limit applies to the program, not to this runner.
 * Started with PRIMACY_COMMAND (a JSON argv), PRIMACY_KILL_TIMEOUT and PRIMACY_COMMAND_CWD in its environment.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { descendants } from './process-tree.js';
import { isPrimacyMessage, type WorkerMessage } from './protocol.js';

const argv = JSON.parse(process.env.PRIMACY_COMMAND ?? '[]') as string[];
const killTimeout = Number(process.env.PRIMACY_KILL_TIMEOUT) || 15_000;
const interval = Number(process.env.PRIMACY_HEARTBEAT_INTERVAL) || 1000;
const [file, ...args] = argv;
if (file === undefined) {
  process.stderr.write('primacy: the command runner was started without a command\n');
  process.exit(64);
}
// The command's own environment: what the manager gave this runner, minus the runner's own keys.
const env = { ...process.env };
for (const key of ['PRIMACY_COMMAND', 'PRIMACY_KILL_TIMEOUT', 'PRIMACY_COMMAND_CWD']) delete env[key];

const child = spawn(file, args, { stdio: 'inherit', env, cwd: process.env.PRIMACY_COMMAND_CWD, detached: true });
const group = () => -(child.pid as number);

/** Signals the command's whole group (a shell and what it started); a group already gone is fine. */
function signalGroup(signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(group(), signal);
  } catch {
    // Gone meanwhile.
  }
}

let stopping = false;
/** Asks the command to stop; SIGKILL for the group if it has not after the kill timeout. */
function stop(): void {
  if (stopping) return;
  stopping = true;
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), killTimeout).unref();
}

/** Resident memory of the command and everything it started, in bytes (Linux /proc; 0 elsewhere). */
function residentBytes(): number {
  if (child.pid === undefined) return 0;
  let total = 0;
  for (const pid of [child.pid, ...descendants(child.pid)]) {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // Exited between the listing and the read.
    }
  }
  return total;
}

function heartbeat(): void {
  // The group too, so the manager can stop it should this runner be SIGKILLed (command-group.ts).
  if (process.connected) process.send?.({ primacy: 'heartbeat', rss: residentBytes(), group: child.pid } satisfies WorkerMessage);
}

child.once('spawn', () => {
  // The first heartbeat is a custom process's ack: sent once the command really runs.
  heartbeat();
  setInterval(heartbeat, interval).unref();
});
child.once('error', (error) => {
  process.stderr.write(`primacy: cannot run ${JSON.stringify(argv.join(' '))}: ${error.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  // What the command started may still be running (a shell's child finishing its SIGTERM trap):
  // asked to stop and given the rest of the kill timeout, never left behind.
  stop();
  void groupGone().then(() => {
    if (signal === null) process.exit(code ?? 1);
    // Node does not die of every signal: it ignores SIGPIPE (and SIGXFSZ), and SIGUSR1 opens its
    // debugger. For those, and as a backstop, the exit status a shell gives a command killed by it.
    const shellStatus = 128 + (constants.signals[signal] ?? 0);
    if (signal === 'SIGUSR1' || signal === 'SIGPIPE' || signal === 'SIGXFSZ') process.exit(shellStatus);
    // Ends the same way the command did, so the restart policy judges the command's exit.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(shellStatus), 1000);
  });
});

/** Resolves once no process of the command's group is left (the kill timeout's SIGKILL ends stragglers). */
async function groupGone(): Promise<void> {
  for (;;) {
    try {
      process.kill(group(), 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
// The manager retires this process (a reload, a scale-down): the command stops gracefully now.
process.on('message', (message: unknown) => {
  if (isPrimacyMessage(message) && message.primacy === 'drain') stop();
});
// The manager is gone or let go of us: stop the command, then exit with it.
process.on('disconnect', stop);
if (!process.connected) stop();
// Last resort (this runner dies of an error): the group must not outlive it.
process.on('exit', () => signalGroup('SIGKILL'));
