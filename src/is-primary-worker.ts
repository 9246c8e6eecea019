import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Election, elect } from './elector.js';
import type { ElectionOptions } from './options.js';

export interface PrimaryWorkerResult {
  /** Whether this process was primary when the first campaign round ended (a snapshot). */
  readonly isPrimary: boolean;
  /** The live election: it keeps campaigning, so a secondary becomes primary when the primary dies. */
  readonly election: Election;
}

/**
 * The one-liner: campaign once and answer, keeping the election running. With no options the lock
 * is a file in the OS temp directory named after the nearest package.json's `name`.
 */
export async function isPrimaryWorker(options: Partial<ElectionOptions> = {}): Promise<PrimaryWorkerResult> {
  const election = elect({ ...options, name: options.name ?? defaultLockName() });
  await election.ready;
  return { isPrimary: election.isPrimary, election };
}

/** The `name` of the package.json nearest to the working directory, else `'primacy'`. */
export function defaultLockName(from: string = process.cwd()): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    try {
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof name === 'string' && name !== '') return name;
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    if (dirname(dir) === dir) return 'primacy';
  }
}
