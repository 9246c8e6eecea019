/**
 * What `inspect()` (and so `lock-status`) says of a free Redis or Redlock lock: once its holder
 * released it, who that was (it read "released by an unknown holder"); once the last lease expired
 * instead, that it ended without a release, never "released by".
 */
import { elect, type LockAdapter } from 'primacy';
import { redisLock } from 'primacy/redis';
import { redlockLock } from 'primacy/redlock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assess, verdictLine } from '../../src/cli/render.js';
import { createHolderIdentity } from '../../src/identity.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

let nodes: RedisServer[] = [];
const locks: LockAdapter[] = [];
beforeAll(async () => {
  nodes = await Promise.all([startRedis(), startRedis(), startRedis()]);
});
afterAll(async () => {
  await Promise.all(locks.map((lock) => lock.close?.()));
  await Promise.all(nodes.map((node) => node.stop()));
});

const backends: Array<[string, () => LockAdapter]> = [
  ['redisLock', () => redisLock({ url: nodes[0]?.url as string })],
  ['redlockLock', () => redlockLock({ urls: nodes.map((node) => node.url) })],
];

describe.each(backends)('%s: a free lock', (_kind, make) => {
  it('names the holder who released it, in inspect() and in the lock-status verdict', async () => {
    const lock = make();
    locks.push(lock);
    const name = `released-${_kind}`;
    const election = elect({ name, lock, ttl: 5000, identity: 'report-writer', logger: false, handleSignals: false });
    const lease = await new Promise<{ token: number }>((resolve) => election.once('elected', resolve));
    await election.stop();
    const record = await lock.inspect(name);
    expect(record).toMatchObject({ state: 'free', token: lease.token, holder: { id: election.holder.id, pid: process.pid } });
    expect(record?.holder?.label).toBe('report-writer');
    const verdict = verdictLine(assess(name, record?.location ?? '', record, Date.now()));
    expect(verdict).toContain(
      `free: released by pid ${process.pid} on host ${election.holder.hostname} (report-writer), token ${lease.token}`,
    );
    expect(verdict).not.toContain('unknown');
  });

  it('says a lease that expired ended without a release, not "released by"', async () => {
    const lock = make();
    locks.push(lock);
    const name = `expired-${_kind}`;
    const holder = createHolderIdentity('crashed');
    const lease = await lock.acquire(name, holder, 300);
    expect(lease).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 600)); // the lease expires, never released
    const record = await lock.inspect(name);
    expect(record).toMatchObject({ state: 'free', token: lease?.token, holder: null });
    const verdict = verdictLine(assess(name, record?.location ?? '', record, Date.now()));
    expect(verdict).toMatch(new RegExp(`^free: the lease of token ${lease?.token} ended without a recorded release`));
    expect(verdict).not.toContain('released by');
  });
});
