/** `primacy start --watch`: a changed file reloads the app without downtime; what is skipped, coalesced, kept. */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { takeWatchPaths, WATCH_OPTIONS, watchSettings } from '../../src/cli/watch-flags.js';
import { ignoreTest } from '../../src/manager/watch-ignore.js';
import { answeringPid } from '../helpers/answering-pid.js';
import { freePort } from '../helpers/free-port.js';
import { pause, until } from '../helpers/until.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const custom = join(import.meta.dirname, '../fixtures/custom-process.ts');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', primacy, ...args], { encoding: 'utf8', timeout: 40_000 });

/** The lines of primacy's own log that match. */
const lines = (manager: Child, pattern: RegExp) => manager.stderr.split('\n').filter((line) => pattern.test(line));
const RELOADING = /changed: reloading$/;

describe('primacy start --watch', { timeout: 90_000 }, () => {
  let dir: string;
  let app: string;
  let port: number;
  const children: Child[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-watch-'));
    app = join(dir, 'app');
    port = await freePort();
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'watched-app', type: 'module' }));
    await writeFile(join(app, 'src/version.js'), 'export const version = 1;\n');
    await writeFile(
      join(app, 'server.js'),
      "import { createServer } from 'node:http';\nimport { version } from './src/version.js';\n" +
        "createServer((q, s) => s.end(process.pid + ' ' + version)).listen(Number(process.env.PORT), '127.0.0.1');\n",
    );
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  /** `primacy start` with these flags, once it says it is watching. The locks and state stay out of the app. */
  const start = async (...flags: string[]) => {
    const manager = new Child(primacy, ['start', ...flags, '--state-dir', join(dir, 'state')], {
      XDG_RUNTIME_DIR: dir,
      PORT: String(port),
    });
    children.push(manager);
    await until(
      () => /watching /.test(manager.stderr) || manager.exit,
      40_000,
      () => `watching, in: ${manager.stderr}`,
    );
    expect(manager.stderr).toContain(`watching ${app} (reloading`);
    return manager;
  };

  it('replaces each worker on a change, names the file, and serves every request meanwhile', async () => {
    // `--watch app.js`: watch, and the app is app.js (the bare flag takes no value).
    const manager = await start('--watch', join(app, 'server.js'), '--workers', '2');
    const ready = /2 workers ready: worker-0 pid (\d+), worker-1 pid (\d+)/.exec(manager.stderr);
    const before = [Number(ready?.[1]), Number(ready?.[2])];
    let failed = 0;
    let served = 0;
    let running = true;
    const traffic = (async () => {
      while (running) {
        if ((await answeringPid(port)) === null) failed++;
        else served++;
      }
    })();
    // Written aside and renamed in, as editors save: one event, which a busy machine cannot split.
    await writeFile(join(dir, 'staging'), 'export const version = 2;\n');
    await rename(join(dir, 'staging'), join(app, 'src/version.js'));
    await until(
      () => lines(manager, /reloaded in/).length === 1,
      40_000,
      () => `a reload, in: ${manager.stderr}`,
    );
    running = false;
    await traffic;
    expect(lines(manager, RELOADING)).toEqual(['[primacy] [manager] src/version.js changed: reloading']);
    const replaced = [...(lines(manager, /reloaded in/)[0] as string).matchAll(/(worker-\d) pid (\d+) -> (\d+)/g)];
    expect(replaced.map(([, name, from]) => [name, Number(from)])).toEqual([
      ['worker-0', before[0]],
      ['worker-1', before[1]],
    ]);
    const after = replaced.map(([, , , to]) => Number(to));
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(10);
    expect(after).toContain(await answeringPid(port));
  });

  it('skips node_modules, .git, ignored globs and scratch files, makes one reload of a burst, and leaves a durable process alone', async () => {
    await mkdir(join(app, 'node_modules/dep'), { recursive: true });
    await mkdir(join(app, '.git'));
    const manager = await start(
      join(app, 'server.js'),
      '--workers',
      '1',
      '--inspector',
      '--watch',
      '--watch-ignore',
      '*.log',
      '--watch-delay',
      '1000',
    );
    const inspect = (...args: string[]) => cli('inspect', ...args, '--state-dir', join(dir, 'state'), '--name', 'watched-app', '--json');
    const managed = inspect('manage', 'keeper', custom);
    expect(managed.status).toBe(0);
    const keeperPid = (JSON.parse(managed.stdout).result as Array<{ name: string; pid: number }>).find((w) => w.name === 'keeper')?.pid;
    expect(keeperPid).toBeGreaterThan(0);

    // None of these is a change of the app: had one counted, the reload below would count it.
    await writeFile(join(app, 'node_modules/dep/index.js'), 'module.exports = 1;\n');
    await writeFile(join(app, '.git/HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(app, 'server.log'), 'a log line\n');
    await writeFile(join(app, 'src/.version.js.swp'), 'vim swap\n');
    // A burst of 5 writes, in a directory made after the watch began: one reload names them all.
    await mkdir(join(app, 'src/routes'));
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await writeFile(join(app, `src/routes/${name}.js`), `export const ${name} = 1;\n`);
      await pause(40);
    }
    await until(
      () => lines(manager, /reloaded in/).length === 1,
      40_000,
      () => `a reload, in: ${manager.stderr}`,
    );
    // Only the server worker was replaced: the durable process keeps its pid.
    expect(lines(manager, /reloaded in/)[0]).toMatch(/reloaded in \d+ ms: worker-0 pid \d+ -> \d+$/);
    const status = inspect('status');
    const keeper = (JSON.parse(status.stdout).result as Array<{ name: string; pid: number; state: string }>).find(
      (w) => w.name === 'keeper',
    );
    expect(keeper).toMatchObject({ pid: keeperPid, state: 'ACKED' });
    // Still one reload, the status query later (a second one of the burst would have begun by now).
    expect(lines(manager, RELOADING)).toEqual(['[primacy] [manager] src/routes/e.js (and 4 other files) changed: reloading']);
  });

  it('refuses bad watch flags, naming the flag and the value', () => {
    const nowhere = join(dir, 'nowhere');
    const missing = cli('start', join(app, 'server.js'), `--watch=${join(app, 'src')},${nowhere}`);
    expect(missing.status).toBe(64);
    expect(missing.stderr).toContain(`primacy start: --watch=${nowhere}: ${nowhere} is missing`);
    const server = join(app, 'server.js');
    const settings = (...argv: string[]) => {
      const { argv: rest, paths } = takeWatchPaths(argv);
      const { values } = parseArgs({ args: rest, options: WATCH_OPTIONS, allowPositionals: true });
      return watchSettings(values, paths, server);
    };
    expect(() => settings('--watch', '--watch-delay', 'soon')).toThrow(
      '--watch-delay must be a whole number of milliseconds from 0 to 60000, got "soon"',
    );
    expect(() => settings('--watch-ignore', '*.log')).toThrow('--watch-ignore only applies with --watch');
    expect(() => settings('--watch', '--watch-ignore', 'src/[ab].js')).toThrow('--watch-ignore needs a glob of names with *, ? and **');
    expect(() => settings('--watch=src,')).toThrow('--watch= needs comma-separated paths, got "src,"');
    // The app's directory: that of its package.json. What follows `--` is the app's own.
    expect(settings('--watch', '--', '--watch=x')).toEqual({ paths: [app], ignore: [], delay: 300 });
    expect(settings(`--watch=${join(app, 'src')}`, '--watch-delay', '50')).toMatchObject({ paths: [join(app, 'src')], delay: 50 });
  });

  it('skips what its globs name as documented: names at any depth, paths from the watched directory, with what they hold', () => {
    const skipped = ignoreTest('/app', ['*.log', 'tmp', 'public/build/**', '/config.local.json', 'src/**/*.gen.js'], ['/app/.state']);
    const paths = ['node_modules/x/i.js', 'lib/.git/HEAD', 'logs/a.log', 'tmp', 'src/tmp/x.js', 'public/build', 'public/build/a.js'];
    const more = ['config.local.json', 'src/a.gen.js', 'src/x/y/a.gen.js', '.state/primacy.sock', 'src/.a.js.swp', 'src/a.js~'];
    expect([...paths, ...more].filter((path) => !skipped(join('/app', path)))).toEqual([]);
    const kept = ['src/a.js', 'public/a.js', 'src/config.local.json', 'a.gen.js', 'src/log.js', 'tmpl/x.js'];
    expect(kept.filter((path) => skipped(join('/app', path)))).toEqual([]);
  });
});
