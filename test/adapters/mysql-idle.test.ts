/**
 * What idle followers cost the server: statements per second for one lock with a live holder,
 * counted by the server (`SHOW GLOBAL STATUS LIKE 'Questions'`, less our own reads of it). Waiting
 * followers are blocked in the server, each sending two statements per `followerWait`: the count
 * grows with locks, not with followers. At 200 followers at most 20 per second; and with 200
 * waiting, the holder's death still fails over at once.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlLock } from '../../adapters/mysql.js';
import { type Election, elect } from '../../src/index.js';
import { type MariadbServer, startMariadb } from '../helpers/mariadb-server.js';
import { pause, until } from '../helpers/until.js';

async function questions(admin: mysql.Connection): Promise<number> {
  const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Questions'");
  return Number((rows as Array<{ Value: string }>)[0]?.Value);
}

/** Statements per second the server saw over `ms`, less the second read of the counter. */
async function rate(admin: mysql.Connection, ms: number): Promise<number> {
  const before = await questions(admin);
  await pause(ms);
  const after = await questions(admin);
  return ((after - before - 1) * 1000) / ms;
}

describe('idle followers of a MySQL lock', () => {
  let server: MariadbServer;
  let admin: mysql.Connection;
  const elections: Election[] = [];
  const join = (name: string, count: number, followerWait?: number, ttl = 10_000) => {
    const joined = Array.from({ length: count }, () =>
      elect({ name, lock: mysqlLock({ uri: server.uri, followerWait }), ttl, logger: false }),
    );
    elections.push(...joined);
    return joined;
  };

  beforeAll(async () => {
    server = await startMariadb();
    admin = await server.admin();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(elections.map((election) => election.stop()));
    await server?.stop();
  }, 60_000);

  it('each waiting follower sends about two statements per followerWait, the holder and its watcher a few per TTL', async () => {
    // A TTL shorter than followerWait: only the watcher times the holder's lease, not every follower.
    const group = join('cycle', 21, 3000, 1500);
    await until(() => group.some((election) => election.isPrimary), 10_000, 'a primary');
    await Promise.all(group.map((election) => election.ready));
    await pause(2500);
    const measured = await rate(admin, 5000);
    console.log(`idle statements/s, 20 followers, followerWait 3000 ms, ttl 1500 ms: ${measured.toFixed(1)}`);
    // 20 followers × 2 statements / (0.8-1.0 × 3 s), plus the holder's 2 renewals/s and the watcher's looks.
    expect(measured).toBeLessThanOrEqual((2.2 * 20) / 2.4 + 8);
    expect(measured).toBeGreaterThan(5); // they do wake up to look (a paused watcher would be noticed)
    await Promise.all(group.map((election) => election.stop()));
  }, 60_000);

  it('costs at most 20 statements/s at 200 followers, and fails over at once when the holder dies', async () => {
    const group = join('idle', 1);
    await until(() => group[0]?.isPrimary, 10_000, 'first primary');
    group.push(...join('idle', 200));
    await Promise.all(group.map((election) => election.ready));
    await pause(1500); // every follower queued in the server
    const measured = await rate(admin, 5000);
    console.log(`idle statements/s, 200 followers, default followerWait: ${measured.toFixed(1)}`);
    expect(measured).toBeLessThanOrEqual(20);
    const [rows] = await admin.query("SELECT IS_USED_LOCK('primacy:idle') AS id");
    const killedAt = performance.now();
    await admin.query('KILL CONNECTION ?', [(rows as Array<{ id: number }>)[0]?.id]);
    await until(() => group.some((election) => election !== group[0] && election.isPrimary), 8000, 'a follower elected');
    // The server handed the lock to the watcher: not the TTL (10 s, 6 s after the kill at the
    // soonest) nor the followers' idle retry (60 s). Room for 201 elections in this one process.
    expect(performance.now() - killedAt).toBeLessThan(3000);
    expect(group.filter((election) => election.isPrimary)).toHaveLength(1);
  }, 90_000);
});
