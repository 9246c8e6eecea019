/**
 * examples/fastify-redis run for real: three instances of server.ts as child processes on one
 * private Redis, asked over HTTP; the primary is SIGKILLed while its once-a-second schedule runs.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { electedIn } from '../helpers/election-group.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const server = join(import.meta.dirname, '../../examples/fastify-redis/server.ts');
const TTL = 2000;
const PERIOD = 1000; // The schedule: '* * * * * *'.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function healthOf(port: number): Promise<{ status: number; role: string; pid: number | undefined }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  const body = (await response.json()) as { role: string; holder: { pid: number } | null };
  return { status: response.status, role: body.role, pid: body.holder?.pid };
}

const ticksOf = (group: Child[]): ChildEvent[] =>
  group.flatMap((child) => child.events.filter((e) => e.ev === 'tick')).sort((a, b) => (a.second as number) - (b.second as number));

describe('examples/fastify-redis', () => {
  let redis: RedisServer;
  const children: Child[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(() => killAll(children));
  afterAll(() => redis.stop());

  it('ticks once per second on exactly one instance, and another takes the schedule over when the primary is SIGKILLed', async () => {
    const env = { PORT: '0', REDIS_URL: redis.url, PRIMACY_TTL: String(TTL) };
    const group = Array.from({ length: 3 }, () => new Child(server, [], env));
    children.push(...group);
    const listening = await Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'listening', 20_000)));
    const ports = listening.map((e) => e.port as number);
    const first = await electedIn(group, 0);

    const before = await Promise.all(ports.map(healthOf));
    expect(before.map((h) => h.status)).toEqual([200, 200, 200]);
    expect(before.filter((h) => h.role === 'primary')).toHaveLength(1);
    expect(before.every((h) => h.pid === first.child.pid)).toBe(true); // Followers name the same holder.

    await sleep(4000);
    const killedAt = wallNow();
    first.child.kill('SIGKILL');
    await first.child.exited;
    await sleep(5000);

    const survivors = group.filter((child) => child !== first.child);
    const next = await electedIn(survivors, killedAt, 1000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);

    const ticks = ticksOf(group);
    const seconds = ticks.map((tick) => tick.second as number);
    expect(new Set(seconds).size).toBe(seconds.length); // No period ticked twice.
    const fromFirst = ticks.filter((tick) => tick.pid === first.child.pid);
    const afterKill = ticks.filter((tick) => tick.t > killedAt);
    expect(fromFirst.length).toBeGreaterThanOrEqual(3);
    expect(afterKill.length).toBeGreaterThanOrEqual(3);
    expect(afterKill.every((tick) => tick.pid === next.child.pid && tick.token === next.event.token)).toBe(true);

    // A crash is noticed through the holder's closed Redis connection (~50-100 ms), the TTL is the
    // hard upper bound: no two consecutive ticks are further apart than the TTL plus one period.
    const gaps = seconds.slice(1).map((second, i) => (second - (seconds[i] as number)) * PERIOD);
    const maxGap = Math.max(...gaps);
    const takeover = next.event.t - killedAt;
    console.log(`fastify-redis: ${ticks.length} ticks, takeover ${takeover.toFixed(0)} ms after SIGKILL, largest gap ${maxGap} ms`);
    expect(maxGap).toBeLessThanOrEqual(TTL + PERIOD);
    expect(takeover).toBeLessThan(TTL);

    const after = await Promise.all(survivors.map((child) => healthOf(ports[group.indexOf(child)] as number)));
    expect(after.map((h) => h.status)).toEqual([200, 200]);
    expect(after.filter((h) => h.role === 'primary')).toHaveLength(1);
    expect(after.every((h) => h.pid === next.child.pid)).toBe(true);
  });
});
