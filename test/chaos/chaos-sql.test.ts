/**
 * Short real chaos runs on the SQL locks (the quick mode; long runs are in chaos/RESULTS.md): a
 * private PostgreSQL or MariaDB server the run starts, killed and restarted with its data, the
 * holder's session ended by the server, the holder paused while the server restarts, and holder
 * processes killed or paused past their TTL. Both locks are connection-bound: a holder whose
 * session ends is replaced at once, not after its TTL. Seeds and lengths fit one round of the kinds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { quickRun, stopRuns, TTL } from './chaos-cli.js';

afterEach(stopRuns);

describe('chaos runs: postgres adapter', () => {
  it('server killed and restarted, the holder’s backend terminated, the holder paused across a restart', { timeout: 60_000 }, async () => {
    const kinds = ['postgres-kill-restart', 'postgres-terminate-holder', 'postgres-restart-primary-stopped', 'kill-primary'];
    const report = await quickRun('postgres', 9, 2520, kinds, '--candidates', '3');
    // The session went with the process or was ended by the server: the lock is free at once.
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
    expect(report.failover['postgres-terminate-holder']?.max).toBeLessThan(TTL);
    expect(report.faults.list.find((f) => f.kind === 'postgres-terminate-holder')?.target).toMatch(/^pg_terminate_backend of backend \d+/);
  });
});

describe('chaos runs: mysql adapter', () => {
  it('the holder’s connection killed, the server killed and restarted, a holder paused past its TTL', { timeout: 60_000 }, async () => {
    const report = await quickRun('mysql', 11, 3, ['mysql-kill-holder', 'mysql-kill-restart', 'stop-primary-long'], '--candidates', '3');
    expect(report.failover['mysql-kill-holder']?.max).toBeLessThan(TTL);
    expect(report.faults.list.find((f) => f.kind === 'mysql-kill-holder')?.target).toMatch(/^KILL CONNECTION \d+ of pid \d+/);
  });
});
