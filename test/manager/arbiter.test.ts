/**
 * The Arbiter on its own: pure logic over a real (memory) lock, a clock we move and hooks we
 * record. One grant per name; only eligible workers; a holder asking again keeps its lease under
 * the new request's grant id; a stale renew or release (wrong token, or an older grant id) is
 * refused; a holder past its deadline loses the name to the next worker; a gone worker gives back
 * at once; close() gives back everything.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLockStore, memoryLock } from '../../adapters/memory.js';
import { createHolderIdentity } from '../../src/identity.js';
import { Arbiter } from '../../src/manager/arbiter.js';

function setup() {
  let now = 0;
  const freed: string[] = [];
  const lost: string[] = [];
  const ineligible = new Set<string>();
  const lock = memoryLock({ store: new MemoryLockStore() });
  const arbiter = new Arbiter(
    lock,
    {
      onFree: (name) => freed.push(name),
      onLost: (grant) => lost.push(grant.workerId),
      eligible: (workerId) => !ineligible.has(workerId),
      context: {},
    },
    () => now,
  );
  const holders = { a: createHolderIdentity('a'), b: createHolderIdentity('b') };
  return { arbiter, lock, freed, lost, ineligible, holders, advance: (ms: number) => (now += ms) };
}

describe('Arbiter', () => {
  it('grants a name to one worker at a time, with the backend’s token', async () => {
    const { arbiter, holders, lock } = setup();
    const first = await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1');
    expect(first).toMatchObject({ grantId: 'r1', token: expect.any(Number) });
    expect(await arbiter.acquire('jobs', 'w1#0', holders.b, 1000, 'r2')).toBeNull();
    expect(arbiter.holderOf('jobs')?.workerId).toBe('w0#0');
    expect((await lock.inspect('jobs'))?.holder?.id).toBe(holders.a.id);
  });

  it('refuses a worker that is not eligible (not acked, draining) without touching the backend', async () => {
    const { arbiter, holders, ineligible, lock } = setup();
    ineligible.add('w0#0');
    expect(await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1')).toBeNull();
    expect((await lock.inspect('jobs'))?.state ?? 'free').toBe('free');
  });

  it('a holder asking again keeps its lease, and only the new grant id counts afterwards', async () => {
    const { arbiter, holders } = setup();
    const first = await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1');
    const again = await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r2');
    expect(again?.token).toBe(first?.token);
    expect(again?.grantId).toBe('r2');
    // A give-back of the reply it stopped waiting for (r1) does not end the grant.
    await arbiter.release('jobs', 'w0#0', { token: first?.token as number, grantId: 'r1' });
    expect(arbiter.holderOf('jobs')?.grantId).toBe('r2');
    expect(await arbiter.renew('jobs', 'w0#0', { token: first?.token as number, grantId: 'r1' }, 1000)).toBeNull();
    expect(await arbiter.renew('jobs', 'w0#0', { token: first?.token as number, grantId: 'r2' }, 1000)).toMatchObject({ grantId: 'r2' });
  });

  it('refuses a renew or release naming another token or another worker', async () => {
    const { arbiter, holders } = setup();
    const grant = await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1');
    const token = grant?.token as number;
    expect(await arbiter.renew('jobs', 'w0#0', { token: token + 1, grantId: 'r1' }, 1000)).toBeNull();
    await arbiter.release('jobs', 'w1#0', { token, grantId: 'r1' });
    expect(arbiter.holderOf('jobs')?.workerId).toBe('w0#0');
  });

  it('a holder past its deadline loses the name to the next worker, with a higher token', async () => {
    const { arbiter, holders, advance } = setup();
    const first = await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1');
    advance(500);
    expect(await arbiter.acquire('jobs', 'w1#0', holders.b, 1000, 'r2')).toBeNull();
    advance(600);
    const next = await arbiter.acquire('jobs', 'w1#0', holders.b, 1000, 'r3');
    expect(next?.token).toBeGreaterThan(first?.token as number);
    expect(await arbiter.renew('jobs', 'w0#0', { token: first?.token as number, grantId: 'r1' }, 1000)).toBeNull();
  });

  it('a gone worker gives back at once and wakes the others; close() gives back everything', async () => {
    const { arbiter, holders, freed, lock } = setup();
    await arbiter.acquire('jobs', 'w0#0', holders.a, 1000, 'r1');
    await arbiter.acquire('mail', 'w0#0', holders.a, 1000, 'r2');
    await arbiter.workerGone('w0#0');
    // Woken for each name (by the give-back, and again by the backend's own release hint).
    expect(new Set(freed)).toEqual(new Set(['jobs', 'mail']));
    expect(arbiter.holderOf('jobs')).toBeNull();
    await arbiter.acquire('jobs', 'w1#0', holders.b, 1000, 'r3');
    await arbiter.close();
    expect((await lock.inspect('jobs'))?.state ?? 'free').toBe('free');
  });
});
