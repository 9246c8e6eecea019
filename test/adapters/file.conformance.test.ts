import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLock } from '../../adapters/file.js';
import { describeLockAdapter } from '../conformance.js';

describeLockAdapter('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'primacy-conformance-'));
  return {
    make: () => fileLock({ dir }),
    // The lock directory's parent turns into a plain file: every operation on it must fail loudly.
    breakBackend: async () => {
      await rm(dir, { recursive: true, force: true });
      await writeFile(dir, 'not a directory');
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
