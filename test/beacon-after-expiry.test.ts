/**
 * A holder that loses its lease by expiry (paused past its TTL) must give up its same-host beacon
 * once it runs again, without taking the next holder's with it: each lease's beacon is a socket
 * file named after its token, and closing a listening socket unlinks its path. Otherwise the next
 * crash is noticed only at a follower's poll (once 150–900 ms instead of ~30 ms, or a whole retry
 * interval).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { beaconPath } from '../adapters/file/beacon-file.js';
import { fileLockPath } from '../adapters/file/path.js';
import { Child, killAll } from '../harness/child.js';
import { wallNow } from '../harness/clock.js';
import { electedIn } from './helpers/election-group.js';
import { listeningPids } from './helpers/socket-owners.js';
import { eventually, pause } from './helpers/until.js';

const candidate = join(import.meta.dirname, 'fixtures/candidate.ts');

const reachable = (path: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ path }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

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

  it('is given up by the expired holder, and the next holder keeps its own', async () => {
    const lockDir = fileLockPath('jobs', dir);
    // A 3 s TTL: with 1 s, a child stalled ~700 ms on a busy core lost its lease before the pause,
    // so no revoke came after the resume (1 of 9 CI runs).
    const old = new Child(candidate, [dir, 'jobs', '3000', '8000']);
    children.push(old);
    const first = await old.waitFor((e) => e.ev === 'elected', 15_000);
    const oldBeacon = beaconPath(lockDir, first.token as number) as string;
    const next = new Child(candidate, [dir, 'jobs', '1000', '200']);
    children.push(next);
    await next.waitFor((e) => e.ev === 'ready', 15_000);
    const pids = [old.pid, next.pid];
    expect(
      await eventually(
        () => listeningPids(oldBeacon, pids),
        (l) => l.length > 0,
        2000,
      ),
    ).toEqual([old.pid]);

    const stoppedAt = wallNow();
    old.kill('SIGSTOP');
    const taken = await electedIn([next], stoppedAt, 15_000); // by expiry: the paused holder stopped renewing
    const nextBeacon = beaconPath(lockDir, taken.event.token as number) as string;
    // Bound at once (its own name: nothing to wait for), and the paused holder's file removed.
    expect(
      await eventually(
        () => listeningPids(nextBeacon, pids),
        (l) => l.length > 0,
        2000,
      ),
    ).toEqual([next.pid]);
    expect(
      await eventually(
        () => existsSync(oldBeacon),
        (exists) => !exists,
        2000,
      ),
    ).toBe(false);

    const resumedAt = wallNow();
    old.kill('SIGCONT');
    await old.waitFor((e) => e.ev === 'revoked' && e.t > resumedAt, 10_000);
    expect(
      await eventually(
        () => listeningPids(oldBeacon, [old.pid]),
        (l) => l.length === 0,
        5000,
      ),
    ).toEqual([]);
    await pause(200); // the old holder's close, had it unlinked the next holder's file, is done by now
    expect(existsSync(nextBeacon)).toBe(true);
    expect(await reachable(nextBeacon)).toBe(true);
    expect(listeningPids(nextBeacon, pids)).toEqual([next.pid]);
  });
});
