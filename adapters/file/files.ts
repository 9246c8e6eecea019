/**
 * How the file lock opens files: never through a symbolic link (in a directory shared with other
 * users or containers, a planted `<token>.held` → `/etc/shadow` must not be read or written), never
 * blocking on a planted FIFO, never reading more than a record can hold (a planted sparse file of
 * gigabytes must not be read into memory), and never leaving a partial file behind when a write
 * fails (ENOSPC).
 */
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Mode of every file the lock writes: readable by the other candidates of a shared directory whatever their umask. */
const FILE_MODE = 0o644;

/** The most `readNoFollow` reads by default: a state file's record is well under 4 KiB. */
export const MAX_RECORD_BYTES = 64 * 1024;

/**
 * The text of the regular file at `path`; ELOOP for a symlink, EINVAL (code) for anything else but
 * a file, EFBIG (code) for a file of more than `limit` bytes, which is not read.
 */
export async function readNoFollow(path: string, limit = MAX_RECORD_BYTES): Promise<string> {
  const handle = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    if (stats.size > limit) throw tooLarge(path, `${stats.size} bytes`, limit);
    // Read up to one byte past the limit: the size may have grown since the stat.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= limit; length += read) {
      ({ bytesRead: read } = await handle.read(buffer, length, buffer.length - length, null));
    }
    if (length > limit) throw tooLarge(path, `more than ${limit} bytes`, limit);
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

function tooLarge(path: string, size: string, limit: number): Error {
  return Object.assign(new Error(`${path} is ${size}, more than the ${limit} bytes a file of the lock can hold: not read`), {
    code: 'EFBIG',
  });
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
