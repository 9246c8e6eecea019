/**
 * A real filesystem that keeps timestamps in whole seconds: ext4 with 128-byte inodes (a supported
 * format, and the one ext3 volumes keep), in a file, loop-mounted. Needs root, mkfs.ext4 and loop
 * devices, as CI here has; without them the test fails and says why, as a missing redis-server does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CoarseFs {
  /** A directory on the mounted filesystem. */
  readonly dir: string;
  close(): Promise<void>;
}

export async function mountCoarseFs(): Promise<CoarseFs> {
  const work = await mkdtemp(join(tmpdir(), 'primacy-coarse-'));
  const image = join(work, 'ext4.img');
  const dir = join(work, 'mnt');
  try {
    execFileSync('truncate', ['-s', '16M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-I', '128', image], { stdio: 'pipe' });
    execFileSync('mkdir', [dir]);
    execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw new Error(
      `cannot loop-mount an ext4 image with 1 s timestamps (needs root, mkfs.ext4, loop devices): ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return {
    dir,
    async close() {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      await rm(work, { recursive: true, force: true });
    },
  };
}
