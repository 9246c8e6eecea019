import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { privateRoot } from '../../src/adapter-kit.js';

/** A lock directory's path for `name` inside `dir` (by default the private directory `fileLock()` uses); names unsafe in a file name are hashed. */
export function fileLockPath(name: string, dir: string = privateRoot()): string {
  const safe = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name)
    ? name
    : `${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return join(resolve(dir), `primacy-${safe}.lock`);
}
