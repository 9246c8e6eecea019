#!/usr/bin/env node
import { VERSION } from '../version.js';
import { EXIT } from './args.js';
import { runStatus } from './status.js';

/** Commands the design plans (DESIGN.md §4–5) but that do not exist yet. */
const PLANNED = new Set(['start', 'inspect']);

const HELP = `Usage: primacy <command> [options]

Commands:
  status     who holds a lock: same as lock-status (see primacy status --help)
  start      run an app under the worker manager (not available yet)
  inspect    talk to a running manager (not available yet)

Options:
  -h, --help      show this help
  -v, --version   print the version

Exit codes: those of the command; 64 for an unknown or unavailable command.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'status') return runStatus(rest, 'primacy status');
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const problem =
    command === undefined
      ? 'missing command'
      : PLANNED.has(command)
        ? `"${command}" is not available yet (only "status" is)`
        : `unknown command "${command}" (available: status)`;
  process.stderr.write(`primacy: ${problem}\nsee primacy --help\n`);
  return EXIT.usage;
}

process.exitCode = await main(process.argv.slice(2));
