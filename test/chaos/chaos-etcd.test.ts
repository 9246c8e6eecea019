/**
 * Short real chaos runs on the etcd lock (the quick mode; long runs are in chaos/RESULTS.md): one
 * private member killed and restarted with its data, alone or while the primary is paused; a
 * cluster of three with a minority and a majority killed and restarted, and the holder's etcd
 * lease revoked by an admin client. Seeds and lengths fit one round of the kinds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { quickRun, stopRuns, TTL } from './chaos-cli.js';

afterEach(stopRuns);

describe('chaos runs: etcd adapter', () => {
  it('the member killed and restarted with its data, also while the primary is paused', { timeout: 60_000 }, async () => {
    await quickRun('etcd', 7, 13, ['etcd-kill-restart', 'etcd-restart-primary-stopped'], '--candidates', '3');
  });

  it('three members: a minority and a majority killed and restarted, the holder’s lease revoked', { timeout: 60_000 }, async () => {
    const kinds = ['minority-kill-restart', 'majority-kill-restart', 'etcd-revoke-holder'];
    const report = await quickRun('etcd-cluster', 8, 63, kinds, '--candidates', '3');
    // Revoking the lease deletes the holder's key: the followers' watch wakes them at once.
    expect(report.failover['etcd-revoke-holder']?.max).toBeLessThan(TTL);
    expect(report.faults.list.find((f) => f.kind === 'etcd-revoke-holder')?.target).toMatch(/^lease \d+ of pid \d+ \(token \d+\) revoked$/);
  });
});
