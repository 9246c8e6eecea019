/**
 * examples/pm2 run by the real PM2 (the dev dependency) in cluster mode, with a private PM2_HOME so
 * no user's PM2 daemon is ever touched: 4 instances on one port elect one primary through the file
 * lock, the primary is SIGKILLed, another instance takes over long before the lease could expire,
 * and `pm2 kill` leaves no process behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildEvent } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { isRunning } from '../../harness/pids.js';
import { fileLockPath } from '../../src/index.js';
import { freePort } from '../helpers/free-port.js';

const run = promisify(execFile);
const exampleDir = join(import.meta.dirname, '../../examples/pm2');
const pm2Bin = join(import.meta.dirname, '../../node_modules/.bin/pm2');
const INSTANCES = 4;
/** The app's lease length (elect()'s default): takeover must come long before it. */
const TTL = 10_000;

interface Role {
  pid: number;
  isPrimary: boolean;
  token: number | null;
}

/** Processes of this user whose environment names `home` as PM2_HOME: the daemon and its instances. */
function processesOf(home: string): number[] {
  const needle = `PM2_HOME=${home}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle);
      } catch {
        return false; // gone, or not ours
      }
    })
    .map(Number)
    .filter(isRunning);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('examples/pm2 under PM2 cluster mode', () => {
  let dir: string;
  let home: string;
  let eventsFile: string;
  let port: number;
  const lockName = `pm2-example-test-${process.pid}-${Date.now()}`;
  const seenPids = new Set<number>();

  const pm2 = async (...args: string[]): Promise<string> => {
    const env = { ...process.env, PM2_HOME: home, PORT: String(port), LOCK_NAME: lockName, EVENTS_FILE: eventsFile };
    // The cwd is the example's: the daemon it spawns (and so every instance) starts there, and tsx
    // finds the repository's tsconfig.json, whose paths map `primacy` to the sources.
    const { stdout } = await run(process.execPath, [pm2Bin, ...args], { cwd: exampleDir, env, timeout: 20_000 });
    return stdout;
  };
  const online = async () => {
    const list = JSON.parse(await pm2('jlist')) as Array<{ pid: number; pm2_env: { status: string; restart_time: number } }>;
    return list.filter((p) => p.pm2_env.status === 'online').map((p) => ({ pid: p.pid, restarts: p.pm2_env.restart_time }));
  };
  const events = (): ChildEvent[] => {
    if (!existsSync(eventsFile)) return [];
    const parsed = readFileSync(eventsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ChildEvent);
    for (const event of parsed) seenPids.add(event.pid);
    return parsed;
  };
  const waitForEvent = async (match: (event: ChildEvent) => boolean, timeout: number): Promise<ChildEvent> => {
    for (const deadline = Date.now() + timeout; Date.now() < deadline; await pause(20)) {
      const found = events().find(match);
      if (found) return found;
    }
    throw new Error(`no matching event within ${timeout} ms: ${JSON.stringify(events())}`);
  };
  // `connection: close`: PM2's cluster mode balances connections, not requests, so each request
  // needs its own connection to reach the instances in turn.
  const role = async (): Promise<Role> =>
    (await fetch(`http://127.0.0.1:${port}/role`, { headers: { connection: 'close' } })).json() as Promise<Role>;
  const roles = async (count: number): Promise<Role[]> => {
    const answers: Role[] = [];
    for (let i = 0; i < count; i++) answers.push(await role());
    return answers;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-pm2-'));
    home = join(dir, 'pm2-home');
    eventsFile = join(dir, 'events.jsonl');
    port = await freePort();
  });

  afterAll(async () => {
    // Whatever happened above: stop the private daemon, then SIGKILL anything of it still running.
    await pm2('kill').catch(() => undefined);
    for (const pid of [...processesOf(home), ...seenPids]) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(fileLockPath(lockName), { recursive: true, force: true });
  });

  it('elects one primary among 4 instances, fails over at once when it is SIGKILLed, and pm2 kill leaves nothing', async () => {
    // With wait_ready, `pm2 start` returns once every instance has listened and finished its first round.
    await pm2('start', 'ecosystem.config.cjs');
    const instances = await online();
    expect(instances).toHaveLength(INSTANCES);
    const ready = events().filter((e) => e.ev === 'ready');
    expect(new Set(ready.map((e) => e.pid))).toEqual(new Set(instances.map((p) => p.pid)));
    const electedBefore = events().filter((e) => e.ev === 'elected');
    expect(electedBefore).toHaveLength(1);
    const first = electedBefore[0] as ChildEvent;

    // Every instance answers (round robin over 3 rounds), and only the elected one says it is primary.
    const before = await roles(3 * INSTANCES);
    expect(new Set(before.map((r) => r.pid))).toEqual(new Set(instances.map((p) => p.pid)));
    expect(new Set(before.filter((r) => r.isPrimary).map((r) => r.pid))).toEqual(new Set([first.pid]));

    const killedAt = wallNow();
    process.kill(first.pid, 'SIGKILL');
    const next = await waitForEvent((e) => e.ev === 'elected' && e.t > killedAt, 5000);
    expect(next.pid).not.toBe(first.pid);
    // The dead pid was seen at once: nobody waited for the 10 s lease to run out.
    expect(next.t - killedAt).toBeLessThan(TTL / 5);
    expect(next.token as number).toBeGreaterThan(first.token as number);

    // PM2 restarts the killed instance; the newcomer joins as a follower.
    const newcomer = await waitForEvent((e) => e.ev === 'ready' && e.t > killedAt, 10_000);
    expect(newcomer.isPrimary).toBe(false);
    const after = await online();
    expect(after).toHaveLength(INSTANCES);
    expect(after.map((p) => p.pid)).not.toContain(first.pid);
    expect(after.reduce((sum, p) => sum + p.restarts, 0)).toBe(1);

    // From then on, at every poll exactly the new primary claims the role, whichever instance answers.
    const polls = await roles(6 * INSTANCES);
    expect(new Set(polls.map((r) => r.pid))).toEqual(new Set(after.map((p) => p.pid)));
    expect(new Set(polls.filter((r) => r.isPrimary).map((r) => r.pid))).toEqual(new Set([next.pid]));
    expect(events().filter((e) => e.ev === 'elected')).toHaveLength(2);

    // `pm2 kill` stops every instance (they hand the lock over as they go) and the daemon.
    await pm2('kill');
    for (const deadline = Date.now() + 5000; processesOf(home).length > 0 && Date.now() < deadline; ) await pause(50);
    expect(processesOf(home)).toEqual([]);
    expect([...seenPids].filter(isRunning)).toEqual([]);
    // Each election in the events file came after the previous holder had gone: never two at once.
    assertOneHolderAtATime(events(), first.pid, killedAt);
  });
});

/** Walks the role changes in time order: an `elected` while someone else still holds is a violation. */
function assertOneHolderAtATime(all: ChildEvent[], killedPid: number, killedAt: number): void {
  const changes = [...all.filter((e) => e.ev === 'elected' || e.ev === 'revoked'), { ev: 'killed', pid: killedPid, t: killedAt }].sort(
    (a, b) => a.t - b.t,
  );
  let holder: number | null = null;
  for (const change of changes) {
    if (change.ev === 'elected') {
      expect(holder, `pid ${change.pid} elected at ${change.t} while pid ${holder} held`).toBeNull();
      holder = change.pid;
    } else if (change.pid === holder) {
      holder = null;
    }
  }
  expect(changes.filter((e) => e.ev === 'elected').length).toBeGreaterThanOrEqual(2);
}
