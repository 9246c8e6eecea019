/**
 * How the file lock opens files: never through a symbolic link (in a directory shared with other
 * users or containers, a planted `<token>.held` → `/etc/shadow` must not be read or written), never
 * blocking on a planted FIFO, and never leaving a partial file behind when a write fails (ENOSPC).
 */
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Mode of every file the lock writes: readable by the other candidates of a shared directory whatever their umask. */
const FILE_MODE = 0o644;

/** The text of the regular file at `path`; ELOOP for a symlink, EINVAL (code) for anything else but a file. */
export async function readNoFollow(path: string): Promise<string> {
  const handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` (which must not exist: EEXIST otherwise; a symlink in its place counts as existing)
 * holding `text`, mode `mode` whatever the umask. On a failed write the file is removed again.
 */
export async function writeNewFile(path: string, text: string, mode = FILE_MODE): Promise<void> {
  const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
}
