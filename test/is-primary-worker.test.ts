/**
 * The one-liner: `defaultLockName()` (nearest package.json's name) and `isPrimaryWorker()` on a real
 * file lock, including the wake-up of a waiting candidate when the primary stops.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultLockName, type Election, fileLock, isPrimaryWorker, type Lease } from '../src/index.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'primacy-ipw-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const writeJson = (path: string, value: unknown) => writeFile(path, JSON.stringify(value));

describe('defaultLockName', () => {
  it('returns the name of the nearest package.json above a directory that has none', async () => {
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeJson(join(root, 'package.json'), { name: 'outer' });
    expect(defaultLockName(join(root, 'a', 'b'))).toBe('outer');
    expect(defaultLockName(root)).toBe('outer');
  });

  it('prefers the nearer package.json', async () => {
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeJson(join(root, 'package.json'), { name: 'outer' });
    await writeJson(join(root, 'a', 'package.json'), { name: 'inner' });
    expect(defaultLockName(join(root, 'a', 'b'))).toBe('inner');
    expect(defaultLockName(join(root, 'a'))).toBe('inner');
  });

  it.each([
    ['without a name', JSON.stringify({ version: '1.0.0', private: true })],
    ['with an empty name', JSON.stringify({ name: '' })],
    ['with a non-string name', JSON.stringify({ name: 42 })],
    ['with invalid JSON', '{ "name": "broken",'],
    ['that is empty', ''],
  ])('skips a package.json %s', async (_label, contents) => {
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await writeJson(join(root, 'package.json'), { name: 'outer' });
    await writeFile(join(root, 'a', 'package.json'), contents);
    expect(defaultLockName(join(root, 'a', 'b'))).toBe('outer');
  });

  it('never takes a name from a directory every user may write (the walk passes the OS temp dir)', async () => {
    await mkdir(join(root, 'shared', 'app'), { recursive: true });
    await writeJson(join(root, 'package.json'), { name: 'outer' });
    await writeJson(join(root, 'shared', 'package.json'), { name: 'planted' });
    for (const mode of [0o777, 0o1777]) {
      await chmod(join(root, 'shared'), mode);
      expect(defaultLockName(join(root, 'shared', 'app'))).toBe('outer');
    }
  });

  it('is not hung by a FIFO planted as package.json, and skips it', async () => {
    await mkdir(join(root, 'a'), { recursive: true });
    await writeJson(join(root, 'package.json'), { name: 'outer' });
    execFileSync('mkfifo', [join(root, 'a', 'package.json')]);
    // In a child: a blocking read of the FIFO would hang it (and the test) for good.
    const script = `import { defaultLockName } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../src/index.ts')).href)};
      console.log(defaultLockName(${JSON.stringify(join(root, 'a'))}));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(output.trim()).toBe('outer');
  });

  it("falls back to 'primacy' when no package.json exists up to the root", async () => {
    // The assumption this test rests on: nothing above the OS temp dir has a package.json.
    const above: string[] = [];
    for (let dir = root; ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'package.json'))) above.push(dir);
      if (dirname(dir) === dir) break;
    }
    expect(above).toEqual([]);
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    expect(defaultLockName(join(root, 'a', 'b'))).toBe('primacy');
    await writeJson(join(root, 'a', 'package.json'), { version: '1.0.0' });
    expect(defaultLockName(join(root, 'a', 'b'))).toBe('primacy');
  });
});

describe('defaultLockName() of a running app', () => {
  // tsx by absolute URL: from `/` a bare `--import tsx` would not resolve.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const source = pathToFileURL(join(import.meta.dirname, '../src/is-primary-worker.ts')).href;
  const nameSeenBy = (script: string, cwd: string) =>
    execFileSync(process.execPath, ['--import', tsx, script], { cwd, encoding: 'utf8' }).trim();

  async function app(name: string): Promise<string> {
    await mkdir(join(root, name, 'src'), { recursive: true });
    await writeJson(join(root, name, 'package.json'), { name });
    const script = join(root, name, 'src', 'main.ts');
    await writeFile(script, `import { defaultLockName } from '${source}';\nconsole.log(defaultLockName());\n`);
    return script;
  }

  it("is the entry script's package name, wherever the app is started from", async () => {
    const script = await app('app-one');
    await mkdir(join(root, 'elsewhere'));
    await writeJson(join(root, 'elsewhere', 'package.json'), { name: 'elsewhere' });
    expect(nameSeenBy(script, join(root, 'elsewhere'))).toBe('app-one');
    expect(nameSeenBy(script, join(root, 'app-one'))).toBe('app-one');
    expect(nameSeenBy(script, '/')).toBe('app-one');
  });

  it('differs for two apps started from /, and follows a symlinked entry script to its package', async () => {
    const one = await app('app-one');
    const two = await app('app-two');
    await symlink(two, join(root, 'app-one', 'linked-main.ts'));
    expect(nameSeenBy(one, '/')).toBe('app-one');
    expect(nameSeenBy(two, '/')).toBe('app-two');
    expect(nameSeenBy(join(root, 'app-one', 'linked-main.ts'), '/')).toBe('app-two');
  });

  it("is the working directory's package name when there is no entry script (node -e)", async () => {
    await app('app-one');
    // An argument after -e lands in argv[1], where a script would: it must not be taken for one.
    const other = join(await app('app-two'), '..', 'looks-like-a-script.js');
    const evaluated = `import('${source}').then((m) => console.log(m.defaultLockName()))`;
    const seen = execFileSync(process.execPath, ['--import', tsx, '-e', evaluated, other], {
      cwd: join(root, 'app-one', 'src'),
      encoding: 'utf8',
    }).trim();
    expect(seen).toBe('app-one');
  });
});

describe('isPrimaryWorker', () => {
  const elections: Election[] = [];
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((e) => e.stop()));
  });

  /** Two candidates on one lock directory; the second only retries every 10 s unless woken. */
  async function twoCandidates(name: string) {
    const first = await isPrimaryWorker({ name, lock: fileLock({ dir: root }), handleSignals: false, logger: false });
    elections.push(first.election);
    const second = await isPrimaryWorker({
      name,
      lock: fileLock({ dir: root }),
      handleSignals: false,
      logger: false,
      retryInterval: 10_000,
    });
    elections.push(second.election);
    return { first, second };
  }

  /** Stops `first` and resolves with the lease `second` is elected with, within 4 s, or rejects. */
  async function handOver(first: Election, second: Election): Promise<{ lease: Lease; ms: number }> {
    const elected = once(second, 'elected') as Promise<[Lease]>;
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error('the second candidate was not elected within 4 s')), 4000).unref();
    });
    const stoppedAt = performance.now();
    await first.stop();
    expect(first.isPrimary).toBe(false);
    const [lease] = await Promise.race([elected, timeout]);
    return { lease, ms: performance.now() - stoppedAt };
  }

  it('makes the first of two candidates primary; stopping it wakes the second at once', async () => {
    const name = 'ipw-handover';
    const { first, second } = await twoCandidates(name);
    expect(first.isPrimary).toBe(true);
    expect(first.election.name).toBe(name);
    expect(second.isPrimary).toBe(false);
    expect(second.election.isPrimary).toBe(false);
    expect(first.election.isPrimary).toBe(true);
    const firstToken = first.election.token!;
    expect(firstToken).toBeGreaterThanOrEqual(1);

    // Stopped at once, before the holder accepted the follower's beacon connection: the wake-up
    // must still arrive (this once lost it).
    // Without a wake-up it would not retry for 10 s (± 20% jitter): far past the 4 s allowed.
    const { lease, ms } = await handOver(first.election, second.election);
    expect(ms).toBeLessThan(4000);
    expect(second.election.isPrimary).toBe(true);
    expect(lease.token).toBeGreaterThan(firstToken);
    expect(second.election.token).toBe(lease.token);
    expect((await second.election.leader())?.holder?.id).toBe(second.election.holder.id);
  });
});
