import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/*
 * mkdir -p one level at a time. Node 20's `mkdir(path, { recursive: true })` never returns for
 * some paths (under /proc it loops forever); a misconfigured lock directory must fail, not hang.
 *
 * Directories are created 0755 (less if the umask says so), not 0777 & ~umask: under a umask of 0,
 * a missing TMPDIR or a parent of a lock directory would otherwise be writable by every user, who
 * could then move what is inside away.
 */

const MODE = 0o755;

export function mkdirpSync(path: string, mode = MODE): void {
  try {
    mkdirSync(path, mode);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(path) === path) throw error;
    mkdirpSync(dirname(path), mode);
    try {
      mkdirSync(path, mode);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}
