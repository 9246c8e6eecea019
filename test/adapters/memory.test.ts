import { describe, expect, it } from 'vitest';
import { MemoryLockStore, memoryLock } from '../../adapters/memory.js';
import { createHolderIdentity } from '../../src/identity.js';
import { describeLockAdapter } from '../conformance.js';

describeLockAdapter('memory', async () => {
  const store = new MemoryLockStore();
  const made: ReturnType<typeof memoryLock>[] = [];
  return {
    make: () => {
      const adapter = memoryLock({ store });
      made.push(adapter);
      return adapter;
    },
    breakBackend: async () => {
      for (const adapter of made) await adapter.close?.();
    },
    cleanup: async () => {},
  };
});

describe('memory adapter', () => {
  it('expires by its injected clock', async () => {
    let now = 1000;
    const store = new MemoryLockStore();
    const lock = memoryLock({ store, now: () => now });
    const first = await lock.acquire('x', createHolderIdentity(), 100);
    expect(await lock.acquire('x', createHolderIdentity(), 100)).toBeNull();
    now += 101;
    const second = await lock.acquire('x', createHolderIdentity(), 100);
    expect(second?.token).toBe((first?.token ?? 0) + 1);
  });

  it('wakes watchers on release', async () => {
    const lock = memoryLock({ store: new MemoryLockStore() });
    const lease = await lock.acquire('w', createHolderIdentity(), 1000);
    let woken = 0;
    lock.watch?.('w', () => woken++);
    if (lease) await lock.release(lease);
    await new Promise((r) => setImmediate(r));
    expect(woken).toBe(1);
  });
});
