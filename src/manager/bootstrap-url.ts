import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrimacyError } from '../errors.js';

/**
 * Where the built bootstrap may sit relative to the code asking: the library's chunks are in
 * dist/, beside `dist/manager-bootstrap.js`; the CLI is bundled into dist/cli/, one level down.
 */
const BUILT_BOOTSTRAP = ['./manager-bootstrap.js', '../manager-bootstrap.js'];

/**
 * The bootstrap preloaded into workers: the TypeScript source in development, or the built
 * `dist/manager-bootstrap.js`.
 */
export function bootstrapUrl(): string {
  const candidates = ['./bootstrap.ts', ...BUILT_BOOTSTRAP].map((path) => new URL(path, import.meta.url));
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) {
    const tried = candidates.map((url) => fileURLToPath(url)).join(', ');
    throw new PrimacyError(
      'ERR_PRIMACY_INSTALL',
      `[primacy] [manager] the worker bootstrap is missing from this install (looked for ${tried})`,
    );
  }
  return found.href;
}

/** Workers run with the manager's own flags plus the bootstrap (heartbeats, no orphans). */
export function workerExecArgv(): string[] {
  return [...process.execArgv, '--import', bootstrapUrl()];
}
