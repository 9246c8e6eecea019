/**
 * The one suite every lock adapter must pass (the contract in src/adapter.ts). Each adapter's test file calls
 * `describeLockAdapter` with a setup that gives fresh adapter instances on one shared backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HolderIdentity, Lease, LockAdapter, RunOutcome } from '../src/adapter.js';
import { PrimacyBackendError } from '../src/errors.js';
import { createHolderIdentity } from '../src/identity.js';

export interface AdapterBackend {
  /** A new adapter instance on the shared backend (as another process would have). */
  make(): LockAdapter;
  /** Makes the backend unreachable/unusable for instances made before and after. */
  breakBackend(): Promise<void>;
  cleanup(): Promise<void>;
}

export function describeLockAdapter(label: string, setup: () => Promise<AdapterBackend>): void {
  describe(`${label}: lock adapter conformance`, () => {
    let backend: AdapterBackend;
    let name: string;
    let a: LockAdapter;
    let b: LockAdapter;
    let alice: HolderIdentity;
    let bob: HolderIdentity;
    const ttl = 5000;

    beforeEach(async () => {
      backend = await setup();
      name = `conformance-${Math.random().toString(36).slice(2)}`;
      a = backend.make();
      b = backend.make();
      alice = createHolderIdentity();
      bob = createHolderIdentity();
    });
    afterEach(async () => {
      await a.close?.();
      await b.close?.();
      await backend.cleanup();
    });

    it('grants a free lock and records the holder', async () => {
      const lease = await a.acquire(name, alice, ttl);
      expect(lease).not.toBeNull();
      expect(lease?.holder.id).toBe(alice.id);
      expect(lease?.token).toBeGreaterThanOrEqual(1);
      const record = await b.inspect(name);
      expect(record?.state).toBe('held');
      expect(record?.holder?.id).toBe(alice.id);
      expect(record?.holder?.pid).toBe(process.pid);
      expect(record?.token).toBe(lease?.token);
    });

    it('refuses a held lock to another holder', async () => {
      expect(await a.acquire(name, alice, ttl)).not.toBeNull();
      expect(await b.acquire(name, bob, ttl)).toBeNull();
    });

    it('renews only its own live lease', async () => {
      const lease = await a.acquire(name, alice, ttl);
      if (!lease) throw new Error('no lease');
      const renewed = await a.renew(lease, ttl);
      expect(renewed?.token).toBe(lease.token);
      expect(renewed?.renewedAt).toBeGreaterThanOrEqual(lease.renewedAt);
      expect(await b.acquire(name, bob, ttl)).toBeNull();
    });

    it('releases with compare-and-delete, after which another holder gets a higher token', async () => {
      const first = await a.acquire(name, alice, ttl);
      if (!first) throw new Error('no lease');
      await a.release(first);
      await a.release(first); // idempotent
      expect((await b.inspect(name))?.state ?? 'free').toBe('free');
      expect(await a.renew(first, ttl)).toBeNull();
      const second = await b.acquire(name, bob, ttl);
      expect(second?.token).toBeGreaterThan(first.token);
    });

    it('ignores a release by a non-holder', async () => {
      const lease = await a.acquire(name, alice, ttl);
      if (!lease) throw new Error('no lease');
      await b.release({ ...lease, holder: bob, token: lease.token + 1 });
      await b.release({ ...lease, token: lease.token - 1 });
      expect((await b.inspect(name))?.holder?.id).toBe(alice.id);
      expect(await b.acquire(name, bob, ttl)).toBeNull();
    });

    it('lets another holder take an expired lease, and the old holder can no longer renew', async () => {
      const old = await a.acquire(name, alice, 300);
      if (!old) throw new Error('no lease');
      await new Promise((r) => setTimeout(r, 500));
      const taken = await b.acquire(name, bob, ttl);
      expect(taken?.token).toBeGreaterThan(old.token);
      expect(await a.renew(old, ttl)).toBeNull();
      await a.release(old); // a stale release must not free the new holder's lock
      expect((await b.inspect(name))?.holder?.id).toBe(bob.id);
    });

    it('hands out strictly increasing tokens across holders', async () => {
      const tokens: number[] = [];
      for (let i = 0; i < 12; i++) {
        const [adapter, holder] = i % 2 === 0 ? [a, alice] : [b, bob];
        const lease = await adapter.acquire(name, holder, ttl);
        if (!lease) throw new Error(`round ${i}: no lease`);
        tokens.push(lease.token);
        await adapter.release(lease);
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    });

    it('grants exactly one of many concurrent acquirers', async () => {
      const adapters = Array.from({ length: 12 }, () => backend.make());
      try {
        const leases = await Promise.all(adapters.map((adapter) => adapter.acquire(name, createHolderIdentity(), ttl)));
        expect(leases.filter(Boolean)).toHaveLength(1);
      } finally {
        await Promise.all(adapters.map((adapter) => adapter.close?.()));
      }
    });

    it('stores a run-once outcome only while the lease is held, for every instance to read', async () => {
      if (!a.writeOutcome || !a.readOutcome || !b.readOutcome) throw new Error(`${label} stores no run-once outcomes`);
      const outcome = (lease: Lease, status: RunOutcome['status']): RunOutcome => {
        const at = Date.now();
        return { status, token: lease.token, holder: lease.holder, startedAt: at, finishedAt: at };
      };
      expect(await b.readOutcome(name)).toBeNull();
      const first = await a.acquire(name, alice, ttl);
      if (!first) throw new Error('no lease');
      expect(await a.writeOutcome(first, { ...outcome(first, 'failed'), error: 'boom' })).toBe(true);
      expect(await b.readOutcome(name)).toMatchObject({ status: 'failed', token: first.token, error: 'boom' });
      await a.release(first);
      // Released: the old lease may no longer write; the recorded outcome stays.
      expect(await a.writeOutcome(first, outcome(first, 'completed'))).toBe(false);
      const second = await b.acquire(name, bob, ttl);
      if (!second) throw new Error('no lease');
      expect(await a.writeOutcome(first, outcome(first, 'completed'))).toBe(false);
      expect(await b.writeOutcome?.(second, outcome(second, 'completed'))).toBe(true);
      expect(await a.readOutcome(name)).toMatchObject({ status: 'completed', token: second.token, holder: { id: bob.id } });
    });

    it('reports a broken backend as a PrimacyBackendError, never as a lease', async () => {
      await backend.breakBackend();
      await expect(b.acquire(name, bob, ttl)).rejects.toBeInstanceOf(PrimacyBackendError);
    });
  });
}
