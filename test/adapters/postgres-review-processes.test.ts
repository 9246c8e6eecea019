/**
 * The Postgres review, across real processes on a private server that logs every statement: the
 * idle cost of followers spread over several processes stays per lock, and a process whose
 * elections stopped exits by itself (with or without `close()`), leaving no session behind.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { countStatements, startCountingServer } from '../helpers/postgres-idle-cost.js';
import type { PostgresServer } from '../helpers/postgres-server.js';
import { pause, until } from '../helpers/until.js';

const fixture = join(import.meta.dirname, '../fixtures/postgres-review-followers.ts');

describe('postgres lock across processes, reviewed', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  const children: Child[] = [];
  const spawn = (name: string, count: number, mode: 'stay' | 'stop' | 'stop-close' = 'stay') => {
    const child = new Child(fixture, [server.url, name, String(count), mode]);
    children.push(child);
    return child;
  };
  const sessions = async () =>
    (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'primacy%'`)).rows[0]?.n;

  beforeAll(async () => {
    server = await startCountingServer();
    admin = await server.admin();
  });
  afterEach(() => killAll(children.splice(0)));
  afterAll(() => server?.stop());

  it('30 idle followers in 3 processes cost the server under 20 statements/s for their lock, with one primary', async () => {
    const holder = spawn('idle', 1);
    expect((await holder.waitFor((e) => e.ev === 'ready', 60_000)).primaries).toBe(1);
    const followers = [spawn('idle', 10), spawn('idle', 10), spawn('idle', 10)];
    await Promise.all(followers.map((child) => child.waitFor((e) => e.ev === 'ready', 60_000)));
    await pause(5000); // the field settles: seat taken, follower counts known
    const before = countStatements(server.log());
    const seconds = 10;
    await pause(seconds * 1000);
    const perSecond = (countStatements(server.log()) - before) / seconds;
    console.log(`[postgres review] 30 followers in 3 processes: ${perSecond.toFixed(1)} statements/s`);
    expect(perSecond).toBeLessThan(20);
    let primaries = 0;
    for (const child of [holder, ...followers]) {
      const seen = child.events.length;
      child.process.stdin?.write('status\n');
      const status = await until(() => child.events.slice(seen).find((e) => e.ev === 'status'), 10_000, 'a status');
      primaries += status.primaries as number;
    }
    expect(primaries).toBe(1);
  });

  for (const mode of ['stop', 'stop-close'] as const) {
    it(`a process whose elections stopped exits by itself (${mode === 'stop' ? 'without' : 'with'} close()), leaving no session`, async () => {
      const child = spawn(`exit-${mode}`, 2, mode);
      await child.waitFor((e) => e.ev === 'done', 60_000);
      const status = await Promise.race([child.exited, pause(10_000).then(() => 'still running 10 s after stop()')]);
      expect(status).toEqual({ code: 0, signal: null });
      await until(async () => (await sessions()) === 0, 5000, 'no primacy session left on the server');
    });
  }
});
