/** A command run to its end, for what it printed and how it ended (a CLI under test, npm, pm2). */
import { execFile } from 'node:child_process';

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
