/**
 * The file lock's defaults against another local user, for real (issue 12): the victim's candidates
 * run as `daemon`, the attacker acts as `nobody`, in a directory made like /tmp (world-writable,
 * sticky) that the victim's TMPDIR points at. Whatever the attacker plants must never block the
 * victim silently, forge its leadership or redirect its writes: either it has no effect (the
 * victim's private directory), or the victim reports an error naming the path, the owner, the mode
 * and the fix.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FOLLOWERS } from '../../adapters/file/beacon.js';
import { beaconPath } from '../../adapters/file/beacon-file.js';
import { fileLockPath } from '../../adapters/file/path.js';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { createHolderIdentity, procStartTicks } from '../../src/identity.js';
import { countPrimaries, electedIn } from '../helpers/election-group.js';
import { type Account, account, actAs, bundleForAnyUser, flood, limitDescriptors, listenersOf, squat } from '../helpers/local-users.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const name = 'jobs';

let victim: Account;
let attacker: Account;
let base: string;
let candidate: string;
let tmp: string; // the victim's TMPDIR: like /tmp, world-writable and sticky
let round = 0;
const children: Child[] = [];
const squatters: { kill(): unknown }[] = [];

beforeAll(async () => {
  victim = account('daemon');
  attacker = account('nobody');
  base = await mkdtemp(join(tmpdir(), 'primacy-local-users-'));
  chmodSync(base, 0o755);
  candidate = await bundleForAnyUser(join(import.meta.dirname, 'fixtures', 'local-user-candidate.ts'), join(base, 'bundle'), 'candidate');
}, 60_000);
afterAll(() => rm(base, { recursive: true, force: true }));

beforeEach(() => {
  tmp = join(base, `tmp-${++round}`);
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);
});
afterEach(async () => {
  for (const squatter of squatters.splice(0)) squatter.kill();
  await killAll(children);
});

/** The victim's private directory, as its candidates compute it under this TMPDIR. */
const privateRootOfVictim = () => join(tmp, `primacy-${victim.uid}`);

/** A victim candidate: `where` is `default`, `dir:<path>` or `shared:<path>`. */
function start(where: string, { ttl = 3000, retryInterval = 500, gid = victim.gid } = {}): Child {
  const child = new Child(
    candidate,
    [name, where, String(ttl), String(retryInterval)],
    { TMPDIR: tmp, XDG_RUNTIME_DIR: undefined },
    { as: { uid: victim.uid, gid } },
  );
  children.push(child);
  return child;
}

const errorMatching = (child: Child, pattern: RegExp, timeout = 10_000) =>
  child.waitFor((e) => e.ev === 'error' && pattern.test(String(e.message)), timeout);

/** A directory of the victim's that an attacker would like it to write into. */
function victimsOwnDir(): string {
  const dir = join(base, `victim-home-${round}`);
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, victim.uid, victim.gid);
  return dir;
}

/** A directory the victim's group shares (root:daemon 2770), as an administrator would make it. */
function sharedDir(): string {
  const shared = join(base, `shared-${round}`);
  mkdirSync(shared);
  chownSync(shared, 0, victim.gid);
  chmodSync(shared, 0o2770);
  return shared;
}

/** A state file naming pid 1, alive and owned by root: a forger's favourite holder. */
function forgedRecord(token: number): string {
  const holder = { ...createHolderIdentity(), id: 'forged', pid: 1, hostname: hostname(), procStartTicks: procStartTicks(1) };
  return JSON.stringify({ v: 1, name, token, holder, acquiredAt: Date.now(), ttl: 60_000 });
}

/** Never elected by `within` ms after now: asserted by watching, since a silent block elects nobody too. */
async function neverElected(child: Child, within: number): Promise<void> {
  await pause(within);
  expect(child.events.filter((e) => e.ev === 'elected')).toEqual([]);
}

describe('the private directory (the default location)', () => {
  it('pre-created by another user: the app refuses to start, naming the path, its owner, its mode and the fix', async () => {
    actAs(attacker, 'fs.mkdirSync(args[0]); fs.chmodSync(args[0], 0o777)', privateRootOfVictim());
    const app = start('default');
    const thrown = await app.waitFor((e) => e.ev === 'thrown');
    expect(thrown.message).toContain(`${privateRootOfVictim()} is owned by uid ${attacker.uid} (nobody), mode 0777, not by this process`);
    expect(thrown.message).toMatch(/remove it .* or set `dir`/);
    expect((await app.exited).code).toBe(3);
  });

  it('removed while the app runs (a temp cleaner) and planted again: the error is reported at each retry, nothing is written there', async () => {
    const app = start('default', { ttl: 1500, retryInterval: 200 });
    await app.waitFor((e) => e.ev === 'elected');
    // As a cleaner would, racing the app (its beacon socket may appear meanwhile: ENOTEMPTY, retried).
    await rm(privateRootOfVictim(), { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
    actAs(attacker, 'fs.mkdirSync(args[0]); fs.chmodSync(args[0], 0o777)', privateRootOfVictim());
    await app.waitFor((e) => e.ev === 'revoked');
    const from = app.events.length;
    const error = await errorMatching(app, /refusing the private directory/);
    expect(error.message).toContain(`${privateRootOfVictim()} is owned by uid ${attacker.uid} (nobody), mode 0777`);
    await app.waitFor(
      (e) => e.ev === 'warn' && /acquire for "jobs" failed, retrying: .*refusing the private directory/.test(String(e.message)),
    );
    await app.waitFor((e) => e.ev === 'error', 10_000, app.events.indexOf(error) + 1); // and again: a reported retry
    expect(app.events.slice(from).filter((e) => e.ev === 'elected')).toEqual([]);
    expect(readdirSync(privateRootOfVictim())).toEqual([]);
  });

  it('replaced by a symlink to a directory of the victim: refused, nothing written through it', async () => {
    const target = victimsOwnDir();
    actAs(attacker, 'fs.symlinkSync(args[0], args[1])', target, privateRootOfVictim());
    const app = start('default');
    const thrown = await app.waitFor((e) => e.ev === 'thrown');
    expect(thrown.message).toContain(`${privateRootOfVictim()} is a symbolic link (to ${target})`);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('a lock directory planted in the temp directory', () => {
  it('at the old default location: no effect on the default lock, which lives in the private directory', async () => {
    actAs(attacker, 'fs.mkdirSync(args[0], { mode: 0o755 })', fileLockPath(name, tmp));
    const app = start('default');
    await app.waitFor((e) => e.ev === 'elected');
    expect(lstatSync(fileLockPath(name, privateRootOfVictim())).uid).toBe(victim.uid);
    expect(lstatSync(privateRootOfVictim()).mode & 0o777).toBe(0o700);
    expect(readdirSync(fileLockPath(name, tmp))).toEqual([]);
  });

  it('with `dir` set to the temp directory: a clear error at each attempt, naming path, owner, mode and the fix', async () => {
    actAs(attacker, 'fs.mkdirSync(args[0], { mode: 0o755 })', fileLockPath(name, tmp));
    const app = start(`dir:${tmp}`);
    const error = await errorMatching(app, /refusing the lock directory/);
    expect(error.message).toBe(
      `[primacy] [file] acquire failed: refusing the lock directory ${fileLockPath(name, tmp)}: it is owned by uid ${attacker.uid} (nobody), ` +
        `mode 0755, not by this process (uid ${victim.uid} (daemon)). Whoever can write a lock directory can block or forge the lock, ` +
        'and another local user may have planted this one: remove it and let primacy recreate it (or fix its owner and mode), ' +
        'set `dir` to a directory of yours, or pass `shared: true` (with `dir`) if several users share these locks on purpose',
    );
    await app.waitFor((e) => e.ev === 'error', 10_000, app.events.indexOf(error) + 1);
    expect(app.events.filter((e) => e.ev === 'elected')).toEqual([]);
  });

  it.each([
    ['dir', /it is writable by other users \(owned by uid \d+ \(daemon\), mode 0777\)/],
    ['shared', /it is writable by every user \(owned by uid \d+ \(daemon\), group gid \d+ \(daemon\), mode 0777\)/],
  ])('world-writable, with a forged 999999.held naming pid 1 (%s): refused loudly, not "nobody primary, no error"', async (mode, text) => {
    const lockDir = fileLockPath(name, tmp);
    mkdirSync(lockDir);
    chownSync(lockDir, victim.uid, victim.gid);
    chmodSync(lockDir, 0o777); // the victim's own, left world-writable (an old version, a umask of 0)
    actAs(attacker, 'fs.writeFileSync(args[0], args[1])', join(lockDir, '999999.held'), forgedRecord(999999));
    const app = start(`${mode}:${tmp}`);
    const error = await errorMatching(app, /refusing the lock directory/);
    expect(error.message).toMatch(text);
    expect(app.events.filter((e) => e.ev === 'elected')).toEqual([]);
  });

  it.each(['dir', 'shared'])('a symlink to a directory of the victim (%s): refused, nothing written through it', async (mode) => {
    const target = victimsOwnDir();
    actAs(attacker, 'fs.symlinkSync(args[0], args[1])', target, fileLockPath(name, tmp));
    const app = start(`${mode}:${tmp}`);
    const error = await errorMatching(app, /refusing the lock directory/);
    expect(error.message).toContain(`${fileLockPath(name, tmp)}: it is a symbolic link (to ${target})`);
    await neverElected(app, 500);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('a shared directory (shared: true)', () => {
  it('a member of its group planting a symlinked state file: not followed (the forged record it points at is never read)', async () => {
    // A group of two: the victim and the "attacker", both in the daemon group.
    const shared = sharedDir();
    const lockDir = fileLockPath(name, shared);
    const member = { ...attacker, gid: victim.gid };
    actAs(member, 'fs.mkdirSync(args[0]); fs.chmodSync(args[0], 0o2770)', lockDir);
    const forged = join(shared, 'forged.json');
    actAs(member, 'fs.writeFileSync(args[0], args[1]); fs.symlinkSync(args[0], args[2])', forged, forgedRecord(7), join(lockDir, '7.held'));
    const before = readFileSync(forged, 'utf8');
    // Read through the link, the record names a live pid 1, and the lock would wait out the 10 s TTL.
    const startedAt = wallNow();
    const app = start(`shared:${shared}`, { ttl: 10_000, retryInterval: 1000 });
    const elected = await app.waitFor((e) => e.ev === 'elected', 15_000);
    expect(elected.t - startedAt).toBeLessThan(5000);
    expect(elected.token).toBe(8);
    expect(app.events.some((e) => e.ev === 'warn' && /corrupt state file .*7\.held/.test(String(e.message)))).toBe(true);
    expect(readFileSync(forged, 'utf8')).toBe(before);
    const created = lstatSync(join(lockDir, '8.held'));
    expect([created.uid, created.mode & 0o777]).toEqual([victim.uid, 0o644]);
  });
});

describe('the beacon (a socket file in the lock directory)', () => {
  /** Runs a flood of `count` connections from `who` at every socket `holder` listens on, and watches the holder through it. */
  async function floodHolder(who: Account, holder: Child, count: number, holdMs: number) {
    limitDescriptors(victim, holder.pid, 256); // a flood of `count` accepted connections would exhaust these
    let addresses = listenersOf(holder.pid);
    for (let waited = 0; addresses.length === 0 && waited < 5000; waited += 50) {
      await pause(50); // the holder binds its beacon just after it acquires
      addresses = listenersOf(holder.pid);
    }
    expect(addresses).not.toEqual([]);
    const startedAt = wallNow();
    const results = await Promise.all(addresses.map((address) => flood(who, address, count, holdMs)));
    const lost = holder.events.filter((e) => e.ev === 'revoked' && e.t > startedAt);
    return { addresses, results, lost };
  }

  /** Kills the primary of `group` and returns how long the next one took to be elected (wall ms). */
  async function failover(group: Child[], primary: Child): Promise<number> {
    const killedAt = wallNow();
    primary.kill('SIGKILL');
    const rest = group.filter((child) => child !== primary);
    const next = await electedIn(rest, killedAt);
    return next.event.t - killedAt;
  }

  it("cannot be reached by another user (the private directory is 0700), so a flood of connections leaves the holder's descriptors and lease alone", async () => {
    // Regression: the beacon was an abstract socket, whose name every user reads in /proc/net/unix;
    // ~1100 connections from another user exhausted the holder's descriptors and it lost the lock.
    const group = [start('default', { ttl: 2000, retryInterval: 5000 }), start('default', { ttl: 2000, retryInterval: 5000 })];
    const first = await electedIn(group, 0);
    await Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'ready')));
    const { addresses, results, lost } = await floodHolder(attacker, first.child, 600, 4000);
    expect(lost).toEqual([]);
    expect(results).toEqual([{ connected: 0, open: 0, errors: { EACCES: 600 } }]);
    expect(addresses).toEqual([beaconPath(fileLockPath(name, privateRootOfVictim()), first.event.token as number)]);
    // Woken by the beacon: a poll would come 4–6 s after the kill (retryInterval 5 s ± 20%).
    expect(await failover(group, first.child)).toBeLessThan(3000);
  });

  it(`keeps at most ${MAX_FOLLOWERS} connections of a shared directory's group members: a member's flood cannot take the holder's descriptors`, async () => {
    const shared = sharedDir();
    const group = [
      start(`shared:${shared}`, { ttl: 2000, retryInterval: 5000 }),
      start(`shared:${shared}`, { ttl: 2000, retryInterval: 5000 }),
    ];
    const first = await electedIn(group, 0);
    await Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'ready')));
    const member = { ...attacker, gid: victim.gid };
    const { results, lost } = await floodHolder(member, first.child, 600, 4000);
    expect(lost).toEqual([]);
    expect(results.map(({ connected }) => connected)).toEqual([600]); // a member may connect: the cap is what holds
    for (const { open } of results) expect(open).toBeLessThanOrEqual(MAX_FOLLOWERS);
    // The follower still takes over within the polling bound (polls 4–6 s apart). Whether the
    // beacon or a poll wakes it depends on whether it connected before the flood filled the cap
    // (an over-cap follower polls, by design); on a busy core that race goes either way.
    expect(await failover(group, first.child)).toBeLessThan(10_000);
  });

  it.each(['accept', 'close'] as const)(
    "replaced under the holder by a group member's socket that %ss every connection: failover within the polling bound, never two primaries",
    async (behaviour) => {
      const shared = sharedDir();
      const ttl = 10_000;
      const retryInterval = 1000;
      const holder = start(`shared:${shared}`, { ttl, retryInterval });
      const { token } = await holder.waitFor((e) => e.ev === 'elected');
      const beacon = beaconPath(fileLockPath(name, shared), token as number) as string;
      for (let waited = 0; !listenersOf(holder.pid).includes(beacon) && waited < 5000; waited += 50) await pause(50);
      squatters.push(await squat({ ...attacker, gid: victim.gid }, beacon, behaviour));
      const followers = [0, 1].map(() => start(`shared:${shared}`, { ttl, retryInterval }));
      const group = [holder, ...followers];
      await Promise.all(group.map((child) => child.waitFor((e) => e.ev === 'ready')));
      // The next poll (1 s ± 20%) sees the holder's pid dead: far below the 10 s TTL a squatter
      // could at worst force if the beacon were the lock.
      const killedAt = wallNow();
      expect(await failover(group, holder)).toBeLessThan(4000);
      await pause(1500); // a second primary, if any, would have been elected by now
      expect(await countPrimaries(followers)).toBe(1);
      const elections = (child: Child) => child.events.filter((e: ChildEvent) => e.ev === 'elected' && e.t > killedAt).length;
      expect(followers.map(elections).sort()).toEqual([0, 1]);
    },
  );
});

describe('a state file a group member made unreadable or huge (shared: true)', () => {
  it('unreadable (mode 0000): reported, then reclaimed once unchanged for the TTL, not "vanished" for ever in silence', async () => {
    // Regression: EACCES read as "the file vanished": retried, followed, nobody primary, no message.
    const shared = sharedDir();
    const lockDir = fileLockPath(name, shared);
    actAs(
      { ...attacker, gid: victim.gid },
      "fs.mkdirSync(args[0]); fs.chmodSync(args[0], 0o2770); fs.writeFileSync(args[1], '{}'); fs.chmodSync(args[1], 0)",
      lockDir,
      join(lockDir, '5.held'),
    );
    const startedAt = wallNow();
    const app = start(`shared:${shared}`, { ttl: 3000, retryInterval: 500 });
    const warned = await app.waitFor((e) => e.ev === 'warn' && /cannot read the state file/.test(String(e.message)));
    expect(warned.message).toContain(
      `cannot read the state file ${join(lockDir, '5.held')} (EACCES: permission denied; owned by uid ${attacker.uid} (nobody), mode 0000)`,
    );
    const elected = await app.waitFor((e) => e.ev === 'elected', 15_000);
    expect(elected.token).toBe(6);
    expect(elected.t - startedAt).toBeGreaterThan(3000); // timed like a holder's: it might have been renewed
    expect(app.events.some((e) => e.ev === 'warn' && /unreadable state file .*5\.held .*reclaimed/.test(String(e.message)))).toBe(true);
  });
});

describe('the `dir` option', () => {
  it.each([
    ['0777', 0o777, /is writable by every user and has no sticky bit \(owned by uid \d+ \(nobody\), mode 0777\)/],
    ['1777', 0o1777, /is owned by another user \(owned by uid \d+ \(nobody\), mode 01777\), who can move any entry of it/],
  ])('made by another user (mode %s): refused at construction, with path, owner, mode and fix', async (_, mode, text) => {
    // Regression: accepted; the other user moved each lock directory away as it was created, and
    // leadership flapped at their will.
    const dir = join(tmp, 'myapp-locks');
    actAs(attacker, 'fs.mkdirSync(args[0]); fs.chmodSync(args[0], Number(args[1]))', dir, String(mode));
    const app = start(`dir:${dir}`);
    const thrown = await app.waitFor((e) => e.ev === 'thrown');
    expect(thrown.message).toContain(`Expected \`dir\` to be a directory in which no other user can move the locks away: ${dir}`);
    expect(thrown.message).toMatch(text);
    expect(thrown.message).toMatch(/Use a directory of yours/);
    expect((await app.exited).code).toBe(3);
  });

  it("reached through another user's symbolic link: refused, nothing written through it", async () => {
    const target = victimsOwnDir();
    const link = join(tmp, 'myapp-locks');
    actAs(attacker, 'fs.symlinkSync(args[0], args[1])', target, link);
    const app = start(`dir:${link}`);
    const thrown = await app.waitFor((e) => e.ev === 'thrown');
    expect(thrown.message).toContain(`${link} is a symbolic link (to ${target}) owned by uid ${attacker.uid} (nobody)`);
    expect(readdirSync(target)).toEqual([]);
  });
});
