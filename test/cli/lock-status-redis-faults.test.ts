/**
 * `lock-status` against Redis servers that misbehave: a paused server (SIGSTOP accepts connections
 * but never answers) must not hang it, a Redlock minority paused must not stop it answering, and
 * `--watch` must recover when its server goes down and comes back.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const cli = join(import.meta.dirname, '../../src/cli/lock-status.ts');
const candidate = join(import.meta.dirname, '../fixtures/candidate.ts');
// Well past the CLI's 3 s bound on a look, with a core busy; a hang is killed at 30 s.
const status = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 30_000 });
const timed = async (...args: string[]) => {
  const started = performance.now();
  const result = await status(...args);
  return { ...result, ms: performance.now() - started };
};

describe('lock-status --redis, server paused or restarted', () => {
  let redis: RedisServer;
  const children: Child[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    redis.resume();
    await killAll(children);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('answers exit 3 naming the address and "no answer within N ms" when the server is paused, then exits', async () => {
    redis.pause();
    const json = await timed('paused', '--redis', redis.url, '--json');
    expect(json.ms).toBeLessThan(15_000);
    expect(json.code).toBe(3);
    const error = JSON.parse(json.stdout);
    expect(error.error).toContain(`127.0.0.1:${redis.port}`);
    expect(error.error).toMatch(/no answer within \d+ ms/);
    const human = await timed('paused', '--redis', redis.url);
    expect(human.ms).toBeLessThan(15_000);
    expect(human.code).toBe(3);
    expect(human.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${redis.port}.*no answer within \\d+ ms`));
  }, 70_000);

  it('--watch recovers after the server goes down and comes back, and says why meanwhile', async () => {
    const watch = new Child(cli, ['recovers', '--redis', redis.url, '--watch', '--json', '--interval', '500']);
    children.push(watch);
    await watch.waitFor((e) => e.verdict === 'free', 15_000);
    await redis.down();
    const down = await watch.waitFor((e) => typeof e.error === 'string', 15_000);
    expect(down.error).not.toMatch(/quit\(\)|is closed/);
    expect(down.error).toMatch(new RegExp(`cannot reach .*127\\.0\\.0\\.1:${redis.port}.*ECONNREFUSED`));
    await redis.up();
    const holder = new Child(candidate, [redis.url, 'recovers', '30000', '1000']);
    children.push(holder);
    await holder.waitFor((e) => e.ev === 'elected', 15_000);
    const held = await watch.waitFor((e) => (e.record as { holder?: { pid?: number } } | null)?.holder?.pid === holder.pid, 15_000);
    expect(held.verdict).toBe('held');
  }, 70_000);

  it('--help and the refusal agree: --release is for file locks only', async () => {
    const help = await status('--help');
    expect(help.stdout).toMatch(/--release[^\n]*\(file locks only\)/);
    const refused = await status('x', '--redis', redis.url, '--release', '--yes');
    expect(refused.code).toBe(64);
  });
});

describe('lock-status --redlock, nodes paused', () => {
  let nodes: RedisServer[] = [];
  const children: Child[] = [];
  beforeAll(async () => {
    nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
  });
  afterAll(async () => {
    for (const node of nodes) node.resume();
    await killAll(children);
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it('answers from the majority with one node paused (naming it), and exit 3 with two paused', async () => {
    const urls = nodes.map((node) => node.url).join(',');
    const holder = new Child(candidate, [urls, 'quorum', '30000', '1000']);
    children.push(holder);
    await holder.waitFor((e) => e.ev === 'elected', 15_000);
    nodes[2]?.pause();
    const minority = await timed('quorum', '--redlock', urls, '--json');
    expect(minority.ms).toBeLessThan(15_000);
    expect(minority.code).toBe(0);
    const json = JSON.parse(minority.stdout);
    expect(json.record.holder.pid).toBe(holder.pid);
    expect(JSON.stringify(json.unreachable)).toContain(`127.0.0.1:${nodes[2]?.port}`);
    const human = await timed('quorum', '--redlock', urls);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`127.0.0.1:${nodes[2]?.port}`);
    nodes[1]?.pause();
    const majority = await timed('quorum', '--redlock', urls, '--json');
    expect(majority.ms).toBeLessThan(15_000);
    expect(majority.code).toBe(3);
    expect(JSON.parse(majority.stdout).error).toMatch(/no answer within \d+ ms/);
  }, 90_000);
});
