/**
 * Real processes on one real file lock, with real signals. Bounds here are generous and only
 * prove a mechanism (a takeover happened, and well before the TTL); timing goals live in bench/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, killAll } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { allReady, countPrimaries, electedIn, signalPrimary } from './helpers/election-group.js';

const candidate = join(import.meta.dirname, 'fixtures/candidate.ts');

describe('several processes on one file lock', () => {
  let dir: string;
  const children: Child[] = [];
  const spawnCandidates = (count: number, ttl: number, retryInterval: number, onLoss = 'abort') => {
    const spawned = Array.from({ length: count }, () => new Child(candidate, [dir, 'jobs', String(ttl), String(retryInterval), onLoss]));
    children.push(...spawned);
    return spawned;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-mp-'));
  });
  afterEach(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('has exactly one primary at every sample, and a SIGKILLed primary is replaced well before the TTL', async () => {
    // retryInterval and TTL far above the bound: a takeover that fast was woken, not polled, and the
    // lease did not run out (10 s: 6 s after the kill at the soonest).
    const group = spawnCandidates(6, 10_000, 8000);
    const first = await electedIn(group, 0);
    await allReady(group);
    for (let i = 0; i < 8; i++) expect(await countPrimaries(group)).toBe(1);

    const killedAt = wallNow();
    first.child.kill('SIGKILL');
    const rest = group.filter((child) => child !== first.child);
    const next = await electedIn(rest, killedAt);
    expect(next.event.t - killedAt).toBeLessThan(3000);
    expect(next.event.token as number).toBeGreaterThan(first.event.token as number);
    await first.child.exited;
    for (let i = 0; i < 5; i++) expect(await countPrimaries(rest)).toBe(1);
  });

  it('hands over at once when the primary is SIGTERMed (it releases before exiting)', async () => {
    // Not the followers' retry (8 s ± 20%) nor the TTL (10 s): the release woke them.
    const { first, next, takeover } = await signalPrimary(spawnCandidates(4, 10_000, 8000), 'SIGTERM');
    const stepDown = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(stepDown.reason).toBe('stopped');
    expect(next.event.t).toBeGreaterThan(stepDown.t); // never two primaries
    expect(takeover).toBeLessThan(3000);
    expect((await first.child.exited).signal).toBe('SIGTERM'); // re-raised: exits as it would have
  });

  it('replaces a SIGSTOPped primary after its TTL; resumed, it reads isPrimary false and holds a lower token', async () => {
    const ttl = 1500;
    const group = spawnCandidates(4, ttl, 200);
    const first = await electedIn(group, 0);
    await allReady(group);
    const stoppedAt = wallNow();
    first.child.kill('SIGSTOP');
    const rest = group.filter((child) => child !== first.child);
    const next = await electedIn(rest, stoppedAt);
    // Nobody may take over before the paused holder's lease has run out.
    expect(next.event.t - stoppedAt).toBeGreaterThan(ttl * 0.5);
    await new Promise((r) => setTimeout(r, 500));
    first.child.kill('SIGCONT');
    // After the stop: a busy machine may have stalled it past the tick's 500 ms before, while it was
    // still primary, and that earlier 'resumed' is not what it reads on waking.
    const resumed = await first.child.waitFor((e) => e.ev === 'resumed' && e.t > stoppedAt);
    expect(resumed.isPrimary).toBe(false);
    expect(first.event.token as number).toBeLessThan(next.event.token as number);
    const revoked = await first.child.waitFor((e) => e.ev === 'revoked');
    expect(revoked.reason).toBe('expired');
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPrimaries(group)).toBe(1);
  });

  it("exits with code 1 on loss when onLoss is 'exit'", async () => {
    const group = spawnCandidates(2, 1500, 200, 'exit');
    const first = await electedIn(group, 0);
    const stoppedAt = wallNow();
    first.child.kill('SIGSTOP');
    await electedIn(
      group.filter((child) => child !== first.child),
      stoppedAt,
    );
    first.child.kill('SIGCONT');
    expect((await first.child.exited).code).toBe(1);
  });
});
