#!/usr/bin/env node
import { PrimacyUsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { EXIT } from './args.js';
import { runInspect } from './inspect.js';
import { runStart } from './start.js';
import { runStatus } from './status.js';

const HELP = `Usage: primacy <command> [options]

Commands:
  status     who holds a lock: same as lock-status (see primacy status --help)
  start      run an app under the worker manager (see primacy start --help)
  inspect    talk to a running manager's inspector (see primacy inspect --help)

Options:
  -h, --help      show this help
  -v, --version   print the version

Exit codes: those of the command; 64 for an unknown command or bad usage.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'status') return runStatus(rest, 'primacy status');
  if (command === 'start' || command === 'inspect') {
    try {
      return await (command === 'start' ? runStart(rest) : runInspect(rest));
    } catch (error) {
      const usage = error instanceof PrimacyUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`primacy ${command}: ${(error as Error).message}\nsee primacy ${command} --help\n`);
      return usage ? EXIT.usage : EXIT.error;
    }
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const problem = command === undefined ? 'missing command' : `unknown command "${command}" (available: status, start, inspect)`;
  process.stderr.write(`primacy: ${problem}\nsee primacy --help\n`);
  return EXIT.usage;
}

process.exitCode = await main(process.argv.slice(2));
