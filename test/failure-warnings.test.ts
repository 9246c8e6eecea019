/**
 * A failure's warning says what follows it. Work that threw is not called again in the same term
 * (whilePrimary runs once per term), so its warning must not say "retrying" (it did, and users
 * waited for a retry that never came); a backend call that is retried says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLock } from '../adapters/memory.js';
import { type Election, elect } from '../src/elector.js';

const elections: Election[] = [];
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop()));
});

function collecting(name: string, lock = memoryLock()): { election: Election; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
  const election = elect({ name, lock, logger, handleSignals: false, ttl: 1000, retryInterval: 50 });
  elections.push(election);
  return { election, warnings };
}

describe('failure warnings', () => {
  it('work that threw: "not run again until the next term", and indeed not called again in the term', async () => {
    const { election, warnings } = collecting('work-throws');
    let calls = 0;
    election.whilePrimary(() => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    await election.ready;
    // Three renew intervals of the same term: a retry, if any, would have come.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(election.isPrimary).toBe(true);
    expect(calls).toBe(1);
    expect(warnings).toEqual([`[primacy] whilePrimary work for "work-throws" failed, not run again until the next term: boom 1`]);
  });

  it('a backend call that fails and is retried says "retrying"', async () => {
    const lock = memoryLock();
    await lock.close?.();
    const { warnings } = collecting('backend-fails', lock);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) expect(warning).toMatch(/^\[primacy\] acquire for "backend-fails" failed, retrying: /);
  });
});
