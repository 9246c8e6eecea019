import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const cli = join(import.meta.dirname, '../../src/cli/lock-status.ts');
const candidate = join(import.meta.dirname, '../fixtures/candidate.ts');
const status = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('lock-status --redis', () => {
  let redis: RedisServer;
  const children: Child[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await killAll(children);
    await redis.stop();
  });

  it('shows the holder of a Redis lock, then reports it dead once its connection closes', async () => {
    const holder = new Child(candidate, [redis.url, 'reports', '30000', '1000']);
    children.push(holder);
    const elected = await holder.waitFor((e) => e.ev === 'elected', 15_000);
    const held = status('reports', '--redis', redis.url, '--json');
    expect(held.status).toBe(0);
    const json = JSON.parse(held.stdout);
    expect(json.record.holder.pid).toBe(holder.pid);
    expect(json.record.token).toBe(elected.token);
    expect(json.record.alive).toBe(true);
    holder.kill('SIGKILL');
    await holder.exited;
    const dead = status('reports', '--redis', redis.url);
    expect(dead.status).toBe(2);
    expect(dead.stdout).toMatch(/dead/);
    expect(status('never-taken', '--redis', redis.url).status).toBe(1);
  });

  it('refuses a bad URL, --release, and an unreachable server clearly', () => {
    const badUrl = status('x', '--redis', 'localhost:6379');
    expect(badUrl.status).toBe(64);
    expect(badUrl.stderr).toMatch(/--redis needs a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"/);
    expect(status('x', '--redis', redis.url, '--release', '--yes').status).toBe(64);
    const unreachable = status('x', '--redis', 'redis://127.0.0.1:1');
    expect(unreachable.status).toBe(3);
    expect(unreachable.stderr).toMatch(/ECONNREFUSED|connect/i);
  });
});

describe('lock-status --redlock', () => {
  let nodes: RedisServer[] = [];
  const children: Child[] = [];
  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await killAll(children);
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it('shows the quorum holder, even with one node down', async () => {
    const urls = nodes.map((node) => node.url).join(',');
    const holder = new Child(candidate, [urls, 'quorum', '30000', '1000']);
    children.push(holder);
    const elected = await holder.waitFor((e) => e.ev === 'elected', 15_000);
    await nodes[2]?.down();
    const held = status('quorum', '--redlock', urls, '--json');
    expect(held.status).toBe(0);
    const json = JSON.parse(held.stdout);
    expect(json.record.holder.pid).toBe(holder.pid);
    expect(json.record.token).toBe(elected.token);
    expect(status('x', '--redlock', `${nodes[0]?.url},localhost:1`).status).toBe(64);
  });
});
