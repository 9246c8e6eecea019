/** `lock-status` when the lock cannot be looked at: an error (exit 3), never "free", and JSON under --json. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../harness/command.js';

const cli = join(import.meta.dirname, '../../src/cli/lock-status.ts');

/** Runs lock-status to completion, stdin closed. */
const status = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', cli, ...args]);

// Each run starts a CLI through tsx: seconds apiece with the machine busy.
describe('lock-status errors', { timeout: 90_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-cli-errors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a --dir that does not exist is an error naming the directory and the errno, not "free: never taken"', async () => {
    const missing = join(dir, 'no-such-dir');
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    // Independent runs, side by side: each CLI start costs seconds on a busy machine.
    const [text, json, path, notDir] = await Promise.all([
      status('--dir', missing, 'reports'),
      status('--dir', missing, 'reports', '--json'),
      // --path: the directory holding the lock directory must exist too.
      status('--path', join(missing, 'primacy-reports.lock'), '--json'),
      // A file where the directory should be is not a directory.
      status('--dir', file, 'reports', '--json'),
    ]);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain(missing);
    expect(text.stderr).toContain('ENOENT');
    expect(text.stderr).not.toMatch(/never taken/);

    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ code: 'ENOENT', location: missing, name: 'reports' });
    expect(JSON.parse(json.stdout).error).toContain(missing);

    expect(path.code).toBe(3);
    expect(JSON.parse(path.stdout)).toMatchObject({ code: 'ENOENT', location: missing });
    expect(notDir.code).toBe(3);
    expect(JSON.parse(notDir.stdout)).toMatchObject({ code: 'ENOTDIR', location: file });
  });

  it('a lock never taken in a directory that exists is still free (exit 1)', async () => {
    const free = await status('--dir', dir, 'never-taken', '--json');
    expect(free.code).toBe(1);
    expect(JSON.parse(free.stdout)).toMatchObject({ state: 'none', verdict: 'free' });
  });

  it('an unreachable Redis is exit 3 naming the address and the errno, in JSON under --json', async () => {
    const address = 'redis://127.0.0.1:1';
    const [text, json] = await Promise.all([status('reports', '--redis', address), status('reports', '--redis', address, '--json')]);
    expect(text.code).toBe(3);
    expect(text.stderr).toContain(address);
    expect(text.stderr).toContain('ECONNREFUSED');

    expect(json.code).toBe(3);
    expect(json.stderr).toBe('');
    const error = JSON.parse(json.stdout);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', location: address, name: 'reports' });
    expect(error.error).toContain('127.0.0.1:1');
  });

  it('under --json, a usage error is JSON too, with exit 64', async () => {
    const usage = await status('--json', '--bogus');
    expect(usage.code).toBe(64);
    expect(JSON.parse(usage.stdout)).toMatchObject({ code: 'ERR_PRIMACY_USAGE', error: 'unknown option --bogus' });
  });
});
