/** `primacy inspect <command> [args]`: talks to a manager's inspector (commands: `CONTROL_COMMANDS`). */
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MAX_DELAY } from '../_internal/checks.js';
import { PrimacyUsageError } from '../errors.js';
import { askInspector, CONTROL_COMMANDS } from '../manager/inspector.js';
import type { WorkerInfo } from '../manager/manager.js';
import { defaultManagerName, defaultStateDir, inspectorSocket } from '../manager/options.js';
import { inspectUsageProblem, renderCustom } from './inspect-custom.js';
import { watchStatus } from './inspect-watch.js';

const commandList = (): string => {
  const custom = { usage: 'NAME [args]', summary: 'run a custom command on each worker that registered it; prints each result' };
  const specs = [...Object.values(CONTROL_COMMANDS), custom];
  const width = Math.max(...specs.map((spec) => spec.usage.length)) + 2;
  return specs.map((spec) => `  ${spec.usage.padEnd(width)}${spec.summary}`).join('\n');
};

/** Built from the inspector's own command table, so it lists what a manager answers, no more, no less. */
export const INSPECT_HELP = `Usage: primacy inspect <command> [args] [options]

Commands:
${commandList()}

Options:
  --name NAME        the manager's name (default: the package.json name nearest to the
                     working directory, as primacy start names it after the app's)
  --state-dir DIR    where its socket lives (default: the private per-user directory's managers/)
  --socket PATH      the socket itself
  --json             print the raw JSON answer
  --watch            status only: re-render until Ctrl-C or SIGTERM (on a terminal redrawn in
                     place; otherwise printed again when a worker changes; with --json one line
                     per change); exits 3 if the manager goes away meanwhile
  --interval MS      how often --watch asks, in milliseconds (default 1000)

Exit codes: 0 done, 1 the manager refused or failed the command, 3 cannot reach it,
64 bad usage (checked before connecting: the same whether a manager runs or not).
`;

export async function runInspect(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      'state-dir': { type: 'string' },
      socket: { type: 'string' },
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      interval: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(INSPECT_HELP);
    return 0;
  }
  const [command, ...args] = positionals;
  if (!command) throw new PrimacyUsageError(`inspect needs a command: ${Object.keys(CONTROL_COMMANDS).join(', ')}`);
  // Bad usage is bad usage whether or not a manager answers: said here, before connecting.
  const problem = inspectUsageProblem(command, args);
  if (problem !== null) throw new PrimacyUsageError(problem);
  const interval = watchInterval(command, values.watch === true, values.interval);
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const socket = values.socket ?? inspectorSocket(stateDir, values.name ?? defaultManagerName(process.cwd()));
  if (interval !== null) return watchStatus({ socket, json: values.json === true, interval, render: renderWorkers });
  let response: Awaited<ReturnType<typeof askInspector>>;
  try {
    response = await askInspector({ socket }, { command, args });
  } catch (error) {
    const running = values.socket ? '' : runningManagers(stateDir);
    process.stderr.write(`primacy inspect: cannot reach the manager at ${socket}: ${(error as Error).message}${running}\n`);
    return 3;
  }
  const custom = values.json ? null : renderCustom(command, response);
  if (values.json) process.stdout.write(`${JSON.stringify(response)}\n`);
  else if (custom) {
    process.stdout.write(custom.stdout);
    process.stderr.write(custom.stderr);
  } else if (!response.ok) process.stderr.write(`primacy inspect: ${response.error}\n`);
  else if (Array.isArray(response.result)) process.stdout.write(renderWorkers(response.result as WorkerInfo[]));
  else process.stdout.write(`${String(response.result)}\n`);
  return response.ok ? 0 : 1;
}

function renderWorkers(workers: WorkerInfo[]): string {
  const now = Date.now();
  const rows = workers.map((w) => [
    w.name,
    w.state,
    String(w.pid ?? '-'),
    // Only a running process has an uptime (a FAILED or RESTARTING slot keeps its last start time).
    w.pid !== null && w.startedAt !== null ? `${Math.round((now - w.startedAt) / 1000)}s` : '-',
    String(w.restarts),
    String(w.reloads),
    w.memory === null ? '-' : `${Math.round(w.memory / 1024 / 1024)} MB`,
    w.primary ? 'primary' : '',
  ]);
  const table = [['name', 'state', 'pid', 'uptime', 'restarts', 'reloads', 'memory', 'role'], ...rows];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  return `${table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** `--watch`'s poll interval in ms, or null when not watching; a usage error for any misuse. */
function watchInterval(command: string, watch: boolean, interval: string | undefined): number | null {
  if (watch && command !== 'status') throw new PrimacyUsageError(`--watch only applies to status, not ${command}`);
  if (!watch && interval !== undefined) throw new PrimacyUsageError('--interval only applies with --watch');
  const ms = interval === undefined ? 1000 : Number(interval);
  if (!(Number.isInteger(ms) && ms >= 10 && ms <= MAX_DELAY)) {
    throw new PrimacyUsageError(`--interval must be a whole number of milliseconds from 10 to ${MAX_DELAY}, got "${interval}"`);
  }
  return watch ? ms : null;
}

/** The managers with a socket in `stateDir`, as a hint after a miss (`--name` picks one). */
function runningManagers(stateDir: string): string {
  try {
    const names = readdirSync(stateDir)
      .filter((file) => file.endsWith('.sock'))
      .map((file) => file.slice(0, -'.sock'.length));
    return names.length > 0 ? `\nmanagers with a socket in ${stateDir}: ${names.join(', ')} (pick one with --name)` : '';
  } catch {
    return '';
  }
}
