/** The worker module is checked before anything is forked: by `primacy start` (exit 64, one line) and by `start()`. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../harness/command.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { WorkerManager } from '../../src/manager/manager.js';
import { scriptProblem } from '../../src/manager/script-check.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');

describe('start checks the script first', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-start-checks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('primacy start nope.js: one line naming the path, exit 64, no worker started', async () => {
    // tsx by its URL: the cwd is outside the repository.
    const result = await runCommand(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), primacy, 'start', 'nope.js', '--workers', '2'],
      {
        cwd: dir,
        env: { XDG_RUNTIME_DIR: dir },
        timeout: 40_000,
      },
    );
    expect(result.stderr).toBe('primacy start: nope.js: no such file\n');
    expect(result.code).toBe(64);
  }, 60_000);

  it('start() rejects with a PrimacyConfigError naming `script` and the resolved path', async () => {
    const script = join(dir, 'nope.js');
    const manager = new WorkerManager({ script, workers: 1, stateDir: join(dir, 'state') });
    const error = await manager.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PrimacyConfigError);
    expect((error as PrimacyConfigError).option).toBe('script');
    expect((error as Error).message).toContain(script);
    expect((error as Error).message).toMatch(/no such file/);
    expect(manager.workers()).toEqual([]);
  });

  it('accepts what node itself loads as a main module: a file, `server` for server.js, a directory with an index.js', async () => {
    await writeFile(join(dir, 'server.js'), '');
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'index.js'), '');
    await mkdir(join(dir, 'empty'));
    expect(scriptProblem(join(dir, 'server.js'))).toBeNull();
    expect(scriptProblem(join(dir, 'server'))).toBeNull();
    expect(scriptProblem(join(dir, 'app'))).toBeNull();
    expect(scriptProblem(join(dir, 'empty'))).toEqual({ path: join(dir, 'empty'), problem: 'is a directory, with no index.js' });
  });
});
