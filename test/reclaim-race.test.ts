/**
 * proper-lockfile#121: two processes that both find a lock stale can both end up holding it. Here 16
 * real processes race to reclaim the same abandoned lock, round after round, and exactly one wins.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileLockPath } from '../adapters/file.js';
import { Child, killAll } from '../harness/child.js';
import { createHolderIdentity } from '../src/identity.js';
import { deadHolder, plantHeld } from './helpers/dead-holder.js';

const racer = join(import.meta.dirname, 'fixtures/racer.ts');
const RACERS = 16;

describe('16 processes reclaiming one abandoned lock', () => {
  let dir: string;
  let lockDir: string;
  const racers: Child[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-race-'));
    lockDir = fileLockPath('race', dir);
    await mkdir(lockDir);
    racers.push(...Array.from({ length: RACERS }, () => new Child(racer, [dir, 'race'])));
    await Promise.all(racers.map((child) => child.waitFor((e) => e.ev === 'ready', 20_000)));
  }, 30_000);
  afterAll(async () => {
    await killAll(racers);
    await rm(dir, { recursive: true, force: true });
  });

  async function race(round: number, abandon: (token: number) => Promise<void>, token: number) {
    // force: an earlier winner may close its beacon socket (unlinking its file) meanwhile.
    for (const file of await readdir(lockDir)) await rm(join(lockDir, file), { force: true });
    await abandon(token);
    return go(round);
  }

  /** Every racer makes one acquire attempt at once; the winners. */
  async function go(round: number) {
    const marks = racers.map((child) => child.events.length);
    for (const child of racers) child.send(`go ${round}`);
    const results = await Promise.all(
      racers.map((child, i) => child.waitFor((e) => e.ev === 'result' && e.round === round, 10_000, marks[i])),
    );
    const errors = results.filter((r) => r.error);
    expect(errors).toEqual([]);
    return results.filter((r) => r.won);
  }

  it('has exactly one winner per round when the holder died on this host', async () => {
    let token = 1;
    for (let round = 0; round < 30; round++) {
      const winners = await race(round, (t) => plantHeld(lockDir, t, deadHolder(), 60_000), token);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(winners[0]?.token).toBe(token + 1);
      token = winners[0]?.token as number;
    }
  });

  it('has exactly one winner per round when a holder on another host let its lease expire', async () => {
    // Expiry is timed by each racer's own clock: a first look at the file (all racers see it live),
    // then, once it has stayed unrenewed past its TTL, the race.
    const foreign = { ...createHolderIdentity(), hostname: 'elsewhere' };
    const ttl = 300;
    let token = 100;
    for (let round = 100; round < 130; round += 2) {
      const looks = await race(round, (t) => plantHeld(lockDir, t, foreign, ttl, new Date(Date.now() - 10_000)), token);
      expect(looks, `round ${round}: nobody takes a lease that was just seen`).toHaveLength(0);
      await new Promise((r) => setTimeout(r, ttl + 100));
      const winners = await go(round + 1);
      expect(winners, `round ${round + 1}`).toHaveLength(1);
      expect(winners[0]?.token).toBe(token + 1);
      token = winners[0]?.token as number;
    }
  });
});
