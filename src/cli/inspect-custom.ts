/**
 * `primacy inspect` for the custom commands an app registered (`worker.command`): which names may
 * be sent to the manager at all, and how its answers print (`commands`, and NAME's outcome on each
 * worker).
 */

import { commandNameProblem } from '../manager/command-names.js';
import type { CommandOutcome, CustomCommandInfo } from '../manager/command-registry.js';
import { CONTROL_COMMANDS, controlUsageProblem, type InspectorResponse, isControlCommand } from '../manager/inspector.js';

/**
 * Why `command args` cannot be sent, or null. A built-in's arguments are checked here, before
 * connecting; any other valid name goes to the manager, which alone knows what the app registered.
 */
export function inspectUsageProblem(command: string, args: readonly string[]): string | null {
  if (isControlCommand(command)) return controlUsageProblem(command, args);
  const problem = commandNameProblem(command);
  return problem === null
    ? null
    : `unknown command ${JSON.stringify(command)}: not a built-in (${Object.keys(CONTROL_COMMANDS).join(', ')}), and ${problem}`;
}

/** What to print for `commands` or a custom command's answer, or null for a built-in's (printed as before). */
export function renderCustom(command: string, response: InspectorResponse): { stdout: string; stderr: string } | null {
  if (command === 'commands' && response.ok) return { stdout: commandTable(response.result as CustomCommandInfo[]), stderr: '' };
  if (isControlCommand(command) || response.result === undefined) return null;
  const outcomes = Object.entries(response.result as Record<string, CommandOutcome>);
  const stdout = outcomes.flatMap(([worker, o]) => (o.ok ? [`${worker}: ${show(o.result)}\n`] : [])).join('');
  const stderr = outcomes
    .flatMap(([worker, o]) => (o.ok ? [] : [`primacy inspect: ${command} failed on ${worker}: ${o.error}\n`]))
    .join('');
  return { stdout, stderr };
}

/** A string as it is (a handler may format its own output); anything else as JSON. */
const show = (result: unknown): string => (typeof result === 'string' ? result : JSON.stringify(result));

function commandTable(commands: CustomCommandInfo[]): string {
  if (commands.length === 0) return 'no custom command is registered (an app registers one with worker.command)\n';
  const rows = [['name', 'summary', 'workers'], ...commands.map((c) => [c.name, c.summary, c.workers.join(', ')])];
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
