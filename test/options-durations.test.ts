/**
 * Every duration option goes through one check, capped at setTimeout's limit: above it a timer
 * fires after 1 ms, so `ackTimeout: 3e9` (the manager's check had no cap) made every worker's
 * start-up ack time out at once.
 */
import { describe, expect, it } from 'vitest';
import { memoryLock } from '../adapters/memory.js';
import { MAX_DELAY } from '../src/_internal/checks.js';
import { elect } from '../src/elector.js';
import { PrimacyConfigError } from '../src/errors.js';
import { primacyHealth } from '../src/integrations/express-health.js';
import { electionHealth } from '../src/integrations/health.js';
import { resolveManagerOptions } from '../src/manager/options.js';
import { runOnce } from '../src/run-once.js';

const tooLong = MAX_DELAY + 1;
const refusal = (option: string) =>
  new RegExp(`Expected \`${option.replace('.', '\\.')}\` to be a finite number >= \\S+ ms \\(and <= ${MAX_DELAY}\\)`);

describe('durations are capped at setTimeout’s limit everywhere', () => {
  it.each(['ackTimeout', 'killTimeout', 'drainTime', 'heartbeatInterval', 'heartbeatTimeout'])(
    'the manager refuses %s above it',
    (option) => {
      expect(() => resolveManagerOptions({ script: 'app.js', [option]: tooLong })).toThrow(refusal(option));
    },
  );

  it('the manager refuses nested durations above it, and still takes a long one below it', () => {
    expect(() => resolveManagerOptions({ script: 'app.js', backoff: { backoffMax: tooLong } })).toThrow(refusal('backoff.backoffMax'));
    expect(() => resolveManagerOptions({ script: 'app.js', health: { timeout: tooLong } })).toThrow(refusal('health.timeout'));
    expect(resolveManagerOptions({ script: 'app.js', ackTimeout: MAX_DELAY }).ackTimeout).toBe(MAX_DELAY);
  });

  it('elect(), runOnce() and both health checks refuse one above it', async () => {
    expect(() => elect({ name: 'd', ttl: tooLong, lock: memoryLock(), handleSignals: false })).toThrow(refusal('ttl'));
    await expect(runOnce('d', () => 1, { lock: memoryLock(), waitTimeout: tooLong })).rejects.toThrow(refusal('waitTimeout'));
    const election = elect({ name: 'd', lock: memoryLock(), handleSignals: false, logger: false });
    await expect(electionHealth(election, { timeout: tooLong })).rejects.toThrow(refusal('timeout'));
    expect(() => primacyHealth(election, { timeout: tooLong })).toThrow(refusal('timeout'));
    await election.stop();
  });

  it('every refusal is a PrimacyConfigError', () => {
    expect(() => resolveManagerOptions({ script: 'app.js', ackTimeout: tooLong })).toThrow(PrimacyConfigError);
  });
});
