import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The bootstrap preloaded into workers: the TypeScript source in development, or the built
 * `dist/manager-bootstrap.js` (every built chunk sits in dist/, beside it).
 */
export function bootstrapUrl(): string {
  const ts = new URL('./bootstrap.ts', import.meta.url);
  return existsSync(fileURLToPath(ts)) ? ts.href : new URL('./manager-bootstrap.js', import.meta.url).href;
}

/** Workers run with the manager's own flags plus the bootstrap (heartbeats, no orphans). */
export function workerExecArgv(): string[] {
  return [...process.execArgv, '--import', bootstrapUrl()];
}
