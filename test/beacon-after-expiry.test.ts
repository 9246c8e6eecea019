/**
 * A holder that loses its lease by expiry (paused past its TTL) must stop listening on its
 * same-host beacon once it runs again, so the next holder can bind it: otherwise the next crash is
 * noticed only at a follower's poll (once 150–900 ms instead of ~30 ms, or a full retry interval).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentBeaconAddress } from '../adapters/file/beacon-key.js';
import { fileLockPath } from '../adapters/file/path.js';
import { electedIn } from './helpers/election-group.js';
import { Child, killAll, wallNow } from './helpers/processes.js';
import { listeningPids } from './helpers/socket-owners.js';

const candidate = join(import.meta.dirname, 'fixtures/candidate.ts');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.platform === 'linux')('the file lock beacon after an expiry', () => {
  let dir: string;
  const children: Child[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-beacon-'));
  });
  afterEach(async () => {
    await killAll(children.splice(0));
    await rm(dir, { recursive: true, force: true });
  });

  it('is given up by the expired holder and bound by the next one', async () => {
    const old = new Child(candidate, [dir, 'jobs', '1000', '8000']);
    children.push(old);
    await old.waitFor((e) => e.ev === 'elected', 15_000);
    const address = currentBeaconAddress(fileLockPath('jobs', dir)) as string; // its key exists once a candidate looked
    const next = new Child(candidate, [dir, 'jobs', '1000', '200']);
    children.push(next);
    await next.waitFor((e) => e.ev === 'ready', 15_000);
    const pids = [old.process.pid as number, next.process.pid as number];
    expect(listeningPids(address, pids)).toEqual([old.process.pid]);

    const stoppedAt = wallNow();
    old.kill('SIGSTOP');
    await electedIn([next], stoppedAt, 15_000); // by expiry: the paused holder stopped renewing
    const resumedAt = wallNow();
    old.kill('SIGCONT');
    await old.waitFor((e) => e.ev === 'revoked' && e.t > resumedAt, 10_000);

    // The new holder binds at its next renew (every ttl/3) once the address is free.
    let listeners = listeningPids(address, pids);
    for (let waited = 0; waited < 5000 && listeners.join() !== String(next.process.pid); waited += 50) {
      await pause(50);
      listeners = listeningPids(address, pids);
    }
    expect(listeners).toEqual([next.process.pid]);
  });
});
