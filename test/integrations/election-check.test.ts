/**
 * Whatever takes an election refuses something else at the call, naming the option, with one
 * check (by shape, so elections of a second copy of primacy, ESM beside CommonJS, pass too).
 * electionHealth({}) used to resolve { ok: false, error: "election.leader is not a function" }.
 */
import { describe, expect, it } from 'vitest';
import { memoryLock } from '../../adapters/memory.js';
import { elect } from '../../src/elector.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { scheduleWhilePrimary } from '../../src/integrations/cron.js';
import { electionHealth } from '../../src/integrations/health.js';

const notAnElection = { name: 'jobs' } as never;

describe('an election is checked where one is expected', () => {
  it('electionHealth() rejects a non-election with a PrimacyConfigError naming `election`', async () => {
    const refusal = await electionHealth(notAnElection).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PrimacyConfigError);
    expect((refusal as PrimacyConfigError).option).toBe('election');
  });

  it('scheduleWhilePrimary() throws at the call', () => {
    expect(() => scheduleWhilePrimary(notAnElection, '* * * * * *', () => undefined)).toThrow(/Expected `election` to be an Election/);
  });

  it('a real election passes, and its health is read', async () => {
    const election = elect({ name: 'checked', lock: memoryLock(), handleSignals: false, logger: false });
    await election.ready;
    expect(await electionHealth(election)).toMatchObject({ name: 'checked', role: 'primary', ok: true });
    await election.stop();
  });
});
