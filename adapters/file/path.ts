import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A lock directory's path for `name` inside `dir`; names unsafe in a file name are hashed. */
export function fileLockPath(name: string, dir: string = tmpdir()): string {
  const safe = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name)
    ? name
    : `${name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return join(resolve(dir), `primacy-${safe}.lock`);
}
