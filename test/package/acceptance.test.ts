/**
 * The package a user installs, not the sources: `npm pack`, the tarball installed with only its
 * declared dependencies into apps outside the repository (one on the newest majors of every peer,
 * one on the oldest supported), then, from those apps: every subpath imported as ESM and required as
 * CJS, the declarations compiled strict under module node16 and bundler, `npx primacy start` with a
 * real HTTP app driven by `npx primacy inspect`, `npx lock-status`, and the examples run and
 * type-checked against the built package.
 */
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { type CommandResult, runCommand } from '../../harness/command.js';
import { freePort } from '../helpers/free-port.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const repo = resolve(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, 'fixtures');

/** The peers' majors each app installs: the newest a user gets today, and the oldest we support. */
const APPS = {
  newest: {
    ioredis: '^6.0.0',
    express: '^5.0.0',
    '@types/express': '^5.0.0',
    fastify: '^5.0.0',
    'fastify-plugin': '^6.0.0',
    croner: '^11.0.0',
    'node-cron': '^4.0.0',
    pg: '^8.0.0',
    '@types/pg': '^8.0.0',
    mysql2: '^3.0.0',
    etcd3: '^1.1.0',
    '@nestjs/common': '^11.0.0',
    '@nestjs/core': '^11.0.0',
    '@nestjs/platform-express': '^11.0.0',
    '@nestjs/schedule': '^6.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
    'prom-client': '^15.0.0',
    '@opentelemetry/api': '^1.9.0',
    pino: '^10.0.0',
  },
  oldest: {
    ioredis: '^5.0.0',
    express: '^4.0.0',
    '@types/express': '^4.0.0',
    fastify: '^4.0.0',
    'fastify-plugin': '^4.0.0',
    croner: '^8.0.0',
    'node-cron': '^3.0.0',
    pg: '^8.0.0',
    '@types/pg': '^8.0.0',
    mysql2: '^3.0.0',
    etcd3: '^1.1.0',
    '@nestjs/common': '^10.0.0',
    '@nestjs/core': '^10.0.0',
    '@nestjs/platform-express': '^10.0.0',
    '@nestjs/schedule': '^4.0.0',
    'reflect-metadata': '^0.1.13',
    rxjs: '^7.1.0',
    'prom-client': '^14.0.0',
    '@opentelemetry/api': '^1.4.0',
    pino: '^9.0.0',
  },
} as const;
type AppName = keyof typeof APPS;

/** What every app needs besides the peers: the compiler and the loader the examples run under. */
const TOOLS = { typescript: '5.9.3', '@types/node': '^20.0.0', tsx: '^4.0.0' };

let work: string;
const apps = {} as Record<AppName, string>;
let redis: RedisServer;
const children: Child[] = [];

const npx = (app: string, args: string[], env: NodeJS.ProcessEnv = {}) => runCommand('npx', ['--no-install', ...args], { cwd: app, env });
const expectExit = (result: CommandResult, code: number, what: string) =>
  expect(result.code, `${what}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(code);

async function createApp(name: AppName, tarball: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  const manifest = {
    name: `primacy-acceptance-${name}`,
    private: true,
    type: 'module',
    dependencies: { primacy: `file:${tarball}`, ...APPS[name], ...TOOLS },
  };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const file of ['server.mjs', 'peers.mjs', 'exports.mjs', 'exports.cjs', 'usage.ts', 'usage.cts'])
    await copyFile(join(fixtures, file), join(dir, file));
  await cp(join(repo, 'examples'), join(dir, 'examples'), {
    recursive: true,
    filter: (path) => !path.endsWith('demo.ts') && !path.endsWith('demo-worker.ts'),
  });
  const strict = { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], esModuleInterop: true, target: 'ES2022' };
  const include = ['usage.ts', 'usage.cts', 'examples/**/*.ts'];
  // Nest's legacy decorators: its example has a tsconfig of its own (checked on its own below).
  const exclude = ['examples/nestjs/**'];
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16' }, include, exclude }),
  );
  await writeFile(
    join(dir, 'tsconfig.bundler.json'),
    JSON.stringify({ compilerOptions: { ...strict, module: 'preserve', moduleResolution: 'bundler' }, include, exclude }),
  );
  const installed = await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    timeout: 240_000,
  });
  expectExit(installed, 0, `npm install in the ${name} app`);
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'primacy-acceptance-'));
  expectExit(await runCommand('npm', ['run', 'build'], { cwd: repo, timeout: 180_000 }), 0, 'npm run build');
  const packed = await runCommand('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo });
  expectExit(packed, 0, 'npm pack');
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const tarball = join(work, filename);
  const [newest, oldest] = await Promise.all([createApp('newest', tarball), createApp('oldest', tarball)]);
  apps.newest = newest;
  apps.oldest = oldest;
  redis = await startRedis();
}, 600_000);

afterAll(async () => {
  await killAll(children);
  await redis?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Resolves once a `primacy start` manager said its workers are ready; fails with its output if it exited. */
async function startedUp(manager: Child): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (/\d+ workers? ready/.test(manager.stderr)) return;
    if (manager.process.exitCode !== null || manager.process.signalCode !== null) break;
  }
  throw new Error(
    `the manager's workers were not ready (exit ${manager.process.exitCode ?? manager.process.signalCode}): ${manager.stderr}`,
  );
}

// Each test runs several npx commands and processes (a second or more apiece with a core busy):
// room enough, while every wait inside stays bounded on its own.
const ROOM = { timeout: 180_000 };

describe.each(Object.keys(APPS) as AppName[])('the packed package in an app on the %s peer majors', ROOM, (name) => {
  it('exports the same API from every subpath to ESM and CommonJS, with one error class across subpaths', async () => {
    const esm = await runCommand(process.execPath, ['exports.mjs'], { cwd: apps[name] });
    const cjs = await runCommand(process.execPath, ['exports.cjs'], { cwd: apps[name] });
    expectExit(esm, 0, 'exports.mjs');
    expectExit(cjs, 0, 'exports.cjs');
    const fromEsm = JSON.parse(esm.stdout) as { exported: Record<string, string[]>; sharedErrorClass: boolean };
    const fromCjs = JSON.parse(cjs.stdout) as typeof fromEsm;
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(fromEsm.exported)).toHaveLength(Object.keys(manifest.exports).length - 1);
    expect(fromCjs.exported).toEqual(fromEsm.exported);
    expect(fromEsm.exported.primacy).toEqual(expect.arrayContaining(['elect', 'fileLock', 'runOnce', 'PrimacyError']));
    expect(fromEsm.exported['primacy/redis']).toContain('redisLock');
    expect(fromEsm.exported['primacy/redlock']).toContain('redlockLock');
    expect(fromEsm.exported['primacy/postgres']).toEqual(expect.arrayContaining(['postgresLock', 'inspectPostgresLock']));
    expect(fromEsm.exported['primacy/mysql']).toContain('mysqlLock');
    expect(fromEsm.exported['primacy/etcd']).toContain('etcdLock');
    expect(fromEsm.exported['primacy/manager']).toEqual(expect.arrayContaining(['WorkerManager', 'worker', 'managerLock']));
    expect(fromEsm.exported['primacy/fastify']).toContain('default');
    expect(fromEsm.exported['primacy/express']).toEqual(expect.arrayContaining(['listenWithPrimacy', 'primacyHealth']));
    expect(fromEsm.exported['primacy/cron']).toEqual(expect.arrayContaining(['scheduleWhilePrimary', 'runCoordinator']));
    expect(fromEsm.exported['primacy/nestjs']).toEqual(
      expect.arrayContaining(['PrimacyModule', 'PrimaryOnly', 'primaryRun', 'InjectElection', 'PRIMACY_ELECTION']),
    );
    expect(fromEsm.exported['primacy/metrics']).toEqual(expect.arrayContaining(['prometheusMetrics', 'openTelemetryMetrics']));
    expect(fromEsm.sharedErrorClass).toBe(true);
    expect(fromCjs.sharedErrorClass).toBe(true);
  });

  it('type-checks a strict app and the examples against the declarations, module node16 (and bundler on the newest)', async () => {
    const node16 = await npx(apps[name], ['tsc', '-p', 'tsconfig.json']);
    expectExit(node16, 0, 'tsc node16');
    const nest = await npx(apps[name], ['tsc', '-p', 'examples/nestjs/tsconfig.json']);
    expectExit(nest, 0, "tsc examples/nestjs (its decorators, on this app's Nest)");
    // Bundler resolution reads our exports map the same way whatever the peers' majors: once is enough.
    if (name !== 'newest') return;
    const bundler = await npx(apps[name], ['tsc', '-p', 'tsconfig.bundler.json']);
    expectExit(bundler, 0, 'tsc bundler');
  });

  it('runs a schedule on each cron engine under a Redlock election, on the ioredis, croner and node-cron of this app', async () => {
    const peers = new Child('peers.mjs', [], { REDIS_URL: redis.url }, { cwd: apps[name], node: [] });
    children.push(peers);
    expect(await peers.exited, peers.stderr).toEqual({ code: 0, signal: null });
    const engines = new Set(peers.events.filter((e) => e.ev === 'tick' && typeof e.token === 'number').map((e) => e.engine));
    expect(engines).toEqual(new Set(['croner', 'node-cron']));
  });

  it('runs the Express example on the file lock: elected, serving, hands over on SIGTERM', async () => {
    const lockDir = await mkdtemp(join(work, 'express-lock-'));
    const server = new Child(
      'examples/express-file/server.ts',
      [],
      { PORT: '0', LOCK_DIR: lockDir, LOCK_NAME: `acceptance-${name}` },
      { cwd: apps[name] },
    );
    children.push(server);
    await server.waitFor((e) => e.ev === 'elected', 20_000);
    const { port } = await server.waitFor((e) => e.ev === 'listening', 20_000);
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    server.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('runs the Fastify example on Redis: elected, healthy, releases on SIGTERM', async () => {
    const server = new Child('examples/fastify-redis/server.ts', [], { PORT: '0', REDIS_URL: redis.url }, { cwd: apps[name] });
    children.push(server);
    await server.waitFor((e) => e.ev === 'elected', 20_000);
    const { port } = await server.waitFor((e) => e.ev === 'listening', 20_000);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    server.kill('SIGTERM');
    // primacy's SIGTERM handler is the only one here: it released, then re-raised the signal.
    expect(await server.exited).toEqual({ code: null, signal: 'SIGTERM' });
    const status = await npx(apps[name], ['lock-status', 'fastify-redis-example', '--redis', redis.url, '--json']);
    expectExit(status, 1, 'lock-status after the release');
  });
});

describe('the packed package in an app on the newest peer majors', ROOM, () => {
  it('runs the run-once example to its end: this process applies the migration', async () => {
    const db = join(work, 'run-once-db.json');
    const lockDir = await mkdtemp(join(work, 'run-once-lock-'));
    const migrate = new Child(
      'examples/run-once/migrate.ts',
      [],
      { DB_FILE: db, LOCK_DIR: lockDir, MIGRATION_MS: '50' },
      { cwd: apps.newest },
    );
    children.push(migrate);
    expect(await migrate.exited, migrate.stderr).toEqual({ code: 0, signal: null });
    const result = migrate.events.find((e) => e.ev === 'result');
    expect(result).toMatchObject({ ran: true, runner: migrate.pid });
    expect(JSON.parse(await readFile(db, 'utf8'))).toMatchObject({ version: expect.any(Number) });
  });

  it('runs the PM2 app standalone: elected and ready', async () => {
    const port = await freePort();
    const app = new Child(
      'examples/pm2/app.ts',
      [],
      { PORT: String(port), LOCK_NAME: 'acceptance-pm2', XDG_RUNTIME_DIR: await mkdtemp(join(work, 'pm2-')) },
      { cwd: apps.newest },
    );
    children.push(app);
    await app.waitFor((e) => e.ev === 'ready' && e.isPrimary === true, 20_000);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    app.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('runs the manager example under npx primacy start: one worker ticks each second', async () => {
    const state = await mkdtemp(join(work, 'manager-example-'));
    const manager = new Child(
      'node_modules/.bin/primacy',
      ['start', 'examples/manager/app.ts', '--workers', '2', '--state-dir', state],
      { PORT: String(await freePort()), XDG_RUNTIME_DIR: state, LOCK_NAME: 'acceptance-manager-example' },
      // A TypeScript app: the manager runs under tsx's loader, and so do its workers.
      { cwd: apps.newest },
    );
    children.push(manager);
    const first = await manager.waitFor((e) => e.ev === 'tick', 30_000);
    await manager.waitFor((e) => e.ev === 'tick' && Number(e.second) > Number(first.second), 10_000);
    const tickers = new Set(manager.events.filter((e) => e.ev === 'tick').map((e) => e.pid));
    expect(tickers.size).toBe(1);
    manager.kill('SIGTERM');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
  });

  it('runs an HTTP app under npx primacy start, driven by npx primacy inspect and read by npx lock-status', async () => {
    const app = apps.newest;
    const state = await mkdtemp(join(work, 'manager-'));
    const port = await freePort();
    const env = { XDG_RUNTIME_DIR: state };
    const manager = new Child(
      'node_modules/.bin/primacy',
      ['start', 'server.mjs', '--workers', '2', '--state-dir', state, '--inspector'],
      { ...env, PORT: String(port) },
      // The bin npx runs, run as npx runs it: plain node, no loader.
      { cwd: app, node: [] },
    );
    children.push(manager);
    const inspect = (...args: string[]) => npx(app, ['primacy', 'inspect', ...args, '--state-dir', state], env);
    const status = async () => {
      const result = await inspect('status', '--json');
      expectExit(result, 0, 'primacy inspect status');
      return (JSON.parse(result.stdout) as { result: Array<{ name: string; pid: number | null; state: string }> }).result;
    };
    const serving = async (count: number) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const running = (await status()).filter((w) => w.state === 'ACKED');
        if (running.length === count) return running;
      }
      throw new Error(`never ${count} workers serving: ${manager.stderr}`);
    };

    await startedUp(manager);
    const first = await serving(2);
    // Every answer comes from a managed worker of ours; exactly one of them is the primary.
    const primaries = new Set<number>();
    for (const deadline = Date.now() + 20_000; primaries.size === 0 && Date.now() < deadline; ) {
      for (let i = 0; i < 8; i++) {
        const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pid: number; managed: boolean; isPrimary: boolean };
        expect(answer.managed).toBe(true);
        expect(first.map((w) => w.pid)).toContain(answer.pid);
        if (answer.isPrimary) primaries.add(answer.pid);
      }
    }
    expect(primaries.size).toBe(1);
    const [primaryPid] = primaries;

    const held = await npx(app, ['lock-status', 'acceptance-jobs', '--json'], env);
    expectExit(held, 0, 'lock-status of the held lock');
    // The version in every lease, and lock-status's own, is package.json's (written in by the build).
    const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(JSON.parse(held.stdout)).toMatchObject({ name: 'acceptance-jobs', record: { holder: { pid: primaryPid, version } } });
    const printed = await npx(app, ['lock-status', '--version'], env);
    expectExit(printed, 0, 'lock-status --version');
    expect(printed.stdout.trim()).toBe(version);

    expectExit(await inspect('scale', '3'), 0, 'inspect scale 3');
    await serving(3);

    const before = new Set((await status()).map((w) => w.pid));
    expectExit(await inspect('reload'), 0, 'inspect reload');
    const after = await serving(3);
    expect(after.filter((w) => before.has(w.pid))).toEqual([]);

    expectExit(await inspect('shutdown'), 0, 'inspect shutdown');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
  });

  it('runs the PaaS-style config under npx primacy start: web workers, a Node program and a shell script as named apps', async () => {
    const state = await mkdtemp(join(work, 'paas-'));
    const spool = join(state, 'spool');
    const port = await freePort();
    const manager = new Child(
      'node_modules/.bin/primacy',
      ['start', '--config', 'examples/paas/primacy.config.mjs', '--state-dir', state],
      { PORT: String(port), SPOOL: spool, XDG_RUNTIME_DIR: state },
      { cwd: apps.newest },
    );
    children.push(manager);
    await startedUp(manager);
    expect(manager.stderr).toMatch(/4 workers ready: web-0 pid \d+, web-1 pid \d+, queue pid \d+, mail pid \d+/);
    const signup = await fetch(`http://127.0.0.1:${port}/signup?email=a@example.com`, { method: 'POST' });
    const { id } = (await signup.json()) as { id: string };
    // Through the queue worker (node) and the mail worker (sh), run by the packed command runner.
    await until(() => manager.strayLines.some((line) => /^mail\[\d+\] \| sent /.test(line) && line.endsWith(id)), 20_000, 'mail sent');
    const status = await npx(apps.newest, ['primacy', 'inspect', 'status', '--name', 'paas-example', '--state-dir', state, '--json']);
    expectExit(status, 0, 'primacy inspect status');
    const names = (JSON.parse(status.stdout).result as Array<{ name: string; state: string }>).map((w) => `${w.name}:${w.state}`);
    expect(names).toEqual(['web-0:ACKED', 'web-1:ACKED', 'queue:ACKED', 'mail:ACKED']);
    manager.kill('SIGTERM');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
    expect(manager.strayLines.join('\n')).toMatch(/mail worker: SIGTERM, stopping/);
  });

  it('runs the background-job example from its config under npx primacy start: a submitted job runs to done', async () => {
    const state = await mkdtemp(join(work, 'jobs-'));
    const port = await freePort();
    const manager = new Child(
      'node_modules/.bin/primacy',
      ['start', '--config', 'examples/background-jobs/primacy.config.mjs', '--state-dir', state],
      { PORT: String(port), JOBS_DIR: join(state, 'jobs'), STEP_MS: '50', WORKERS: '2', XDG_RUNTIME_DIR: state },
      { cwd: apps.newest },
    );
    children.push(manager);
    await startedUp(manager);
    const submitted = await fetch(`http://127.0.0.1:${port}/jobs`, { method: 'POST', body: JSON.stringify({ steps: 3 }) });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const done = await until(
      async () => {
        const job = (await (await fetch(`http://127.0.0.1:${port}/jobs/${id}`)).json()) as { state: string };
        return job.state === 'done' && job;
      },
      20_000,
      'the job done',
    );
    expect(done.state).toBe('done');
    manager.kill('SIGTERM');
    expect(await manager.exited).toEqual({ code: 0, signal: null });
  });

  it('runs the NestJS example: one instance elected, its status route says so, SIGTERM releases', async () => {
    const lockDir = await mkdtemp(join(work, 'nestjs-lock-'));
    const app = new Child(
      'main.ts',
      [],
      { PORT: '0', LOCK_DIR: lockDir, LOCK_NAME: 'acceptance-nestjs' },
      { cwd: join(apps.newest, 'examples/nestjs') },
    );
    children.push(app);
    await app.waitFor((e) => e.ev === 'elected', 20_000);
    const { port } = await app.waitFor((e) => e.ev === 'listening', 20_000);
    const status = await fetch(`http://127.0.0.1:${port}/primacy`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { isPrimary: boolean }).isPrimary).toBe(true);
    app.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('runs the metrics examples: /metrics says leader_election_master_status 1 on the primary (Fastify and Express)', async () => {
    for (const example of ['examples/metrics/fastify.ts', 'examples/metrics/express.ts']) {
      const lockDir = await mkdtemp(join(work, 'metrics-lock-'));
      const name = `acceptance-${example.endsWith('fastify.ts') ? 'fastify' : 'express'}-metrics`;
      const server = new Child(example, [], { PORT: '0', XDG_RUNTIME_DIR: lockDir, LOCK_NAME: name }, { cwd: apps.newest });
      children.push(server);
      await server.waitFor((e) => e.ev === 'elected', 20_000);
      const { port } = await server.waitFor((e) => e.ev === 'listening', 20_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics, example).toContain(`leader_election_master_status{name="${name}"} 1`);
      server.kill('SIGTERM');
      await server.exited;
    }
  });
});
