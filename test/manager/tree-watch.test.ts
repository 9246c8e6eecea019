/** `watchTrees` (under `--watch`) when a watched root itself is deleted and made again. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchTrees } from '../../src/manager/tree-watch.js';
import { pause, until } from '../helpers/until.js';

describe('watchTrees: a deleted root', { timeout: 30_000 }, () => {
  let dir: string;
  let stop: (() => void) | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-tree-watch-'));
  });
  afterEach(async () => {
    stop?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('says so, and watches it again once it is made again, its files news', async () => {
    const root = join(dir, 'app');
    await mkdir(join(root, 'lib'), { recursive: true });
    const changed: string[] = [];
    const troubles: string[] = [];
    stop = watchTrees({ roots: [root], ignored: () => false, changed: (path) => changed.push(path), trouble: (m) => troubles.push(m) });

    await rm(root, { recursive: true });
    await until(() => troubles.length > 0, 10_000, 'the deletion said');
    expect(troubles).toEqual([`${root} was deleted: watching resumes when it is made again`]);

    // Made again (as a branch switch would), with a file already in it: that file is news.
    await mkdir(join(root, 'lib'), { recursive: true });
    await writeFile(join(root, 'lib', 'a.js'), '1');
    await until(
      () => changed.includes(join(root, 'lib', 'a.js')),
      10_000,
      () => `a.js reported; got ${changed.join(', ')}`,
    );
    // And watched again, subdirectories included: a later write is seen.
    await pause(100);
    await writeFile(join(root, 'lib', 'b.js'), '1');
    await until(
      () => changed.includes(join(root, 'lib', 'b.js')),
      10_000,
      () => `b.js reported; got ${changed.join(', ')}`,
    );
    expect(troubles).toHaveLength(1);
  });

  it('stops looking for it when the watch is stopped', async () => {
    const root = join(dir, 'app');
    await mkdir(root);
    const changed: string[] = [];
    const troubles: string[] = [];
    stop = watchTrees({ roots: [root], ignored: () => false, changed: (path) => changed.push(path), trouble: (m) => troubles.push(m) });
    await rm(root, { recursive: true });
    await until(() => troubles.length > 0, 10_000, 'the deletion said');
    stop();
    await mkdir(root);
    await writeFile(join(root, 'a.js'), '1');
    await pause(2500); // past two of its once-a-second looks
    expect(changed).toEqual([]);
  });
});
