import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrimacyError } from '../errors.js';

/**
 * A module the manager hands to the processes it starts, by URL: the TypeScript source in
 * development (`./<source>.ts`, beside this file), or the built `dist/<built>.js`. The library's
 * chunks are in dist/, beside it; the CLI is bundled into dist/cli/, one level down.
 */
function shippedModuleUrl(source: string, built: string, what: string): string {
  const candidates = [`./${source}.ts`, `./${built}.js`, `../${built}.js`].map((path) => new URL(path, import.meta.url));
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) {
    const tried = candidates.map((url) => fileURLToPath(url)).join(', ');
    throw new PrimacyError('ERR_PRIMACY_INSTALL', `[primacy] [manager] the ${what} is missing from this install (looked for ${tried})`);
  }
  return found.href;
}

/** The bootstrap preloaded into workers (heartbeats, no orphans, drain). */
export function bootstrapUrl(): string {
  return shippedModuleUrl('bootstrap', 'manager-bootstrap', 'worker bootstrap');
}

/** The runner that stands in for a config app's `command` (see command-runner.ts). */
export function commandRunnerPath(): string {
  return fileURLToPath(shippedModuleUrl('command-runner', 'manager-command-runner', 'command runner'));
}

/** Workers run with the manager's own flags plus the bootstrap (heartbeats, no orphans). */
export function workerExecArgv(): string[] {
  return [...process.execArgv, '--import', bootstrapUrl()];
}
