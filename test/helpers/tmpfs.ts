/**
 * A small real filesystem the test can fill (ENOSPC) or remount read-only (EROFS): a tmpfs mount.
 * Needs root, as CI here has; without it the test fails and says why, as a missing redis-server does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFs {
  /** The mount point. */
  readonly dir: string;
  /** Writes a file that takes every free block: the next write fails with ENOSPC. */
  fill(): Promise<void>;
  /** Removes what fill() wrote. */
  unfill(): Promise<void>;
  /** Remounts read-only (every write fails with EROFS) or read-write again. */
  readOnly(on: boolean): void;
  close(): Promise<void>;
}

export async function mountSmallFs(sizeKb = 512): Promise<SmallFs> {
  const dir = await mkdtemp(join(tmpdir(), 'primacy-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs (needs root): ${(error as Error).message.split('\n')[0]}`);
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    async fill() {
      // One big write: tmpfs accepts what fits and fails the rest with ENOSPC.
      await writeFile(filler, Buffer.alloc(sizeKb * 1024)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOSPC') throw error;
      });
    },
    async unfill() {
      await unlink(filler).catch(() => undefined);
    },
    readOnly(on) {
      execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' });
    },
    async close() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
