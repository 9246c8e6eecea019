/**
 * Short real chaos runs: the CLI as a user runs it, with real candidate processes, real signals, a
 * real fenced store and real redis-servers; every candidate shares one `identity` and the fleet
 * mixes TTLs (1×, 1.5×, 2×), the CLI's defaults. Each run must inject every kind it asks for
 * (seeds and lengths chosen so that one round of the schedule fits), report well-formed, leave no
 * process behind and end with exit code 0 and no violation. Whether a takeover lands inside a given stop is the machine's luck, so
 * only mechanisms and invariants are asserted. Long runs are in chaos/RESULTS.md.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chaos, expectLongStop, type JsonReport, quickRun as run, stopRuns, TTL } from './chaos-cli.js';

afterEach(stopRuns);

describe('chaos runs: file adapter', () => {
  it('every classic candidate fault', { timeout: 50_000 }, async () => {
    const kinds = [
      'busy-primary',
      'kill-follower',
      'kill-primary',
      'restart-primary',
      'stop-follower',
      'stop-primary-long',
      'stop-primary-short',
    ];
    const report = await run('file', 18, 63, kinds);
    expectLongStop(report);
    // A killed primary's dead pid is seen at once: the takeover does not wait for its TTL.
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
    expect(report.failover['restart-primary']?.max).toBeLessThan(TTL);
  });

  it('the lock directory removed, a crash after an expiry, clock steps', { timeout: 45_000 }, async () => {
    const kinds = ['dir-removed', 'expire-then-kill', 'clock-step-primary', 'clock-step-follower'];
    const report = await run('file', 16, 15, kinds, '--candidates', '3');
    // The same-host crash takeover stays fast after an expiry: measured from the kill.
    expect(report.failover['expire-then-kill']?.max).toBeLessThan(TTL);
  });
});

describe('chaos runs: redis adapter', () => {
  it('primary faults and Redis pauses and restarts', { timeout: 45_000 }, async () => {
    // With `redis-restart-primary-stopped`: the primary paused while Redis restarts, the case in
    // which connection-bound takeover once let a follower in before the paused holder's lease ended.
    const kinds = ['kill-primary', 'stop-primary-long', 'redis-pause', 'redis-kill-restart', 'redis-restart-primary-stopped'];
    const report = await run('redis', 15, 191, kinds);
    expectLongStop(report);
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
  });

  it('connection resets, a busy primary cut off, the lock’s state lost', { timeout: 45_000 }, async () => {
    const kinds = ['reset-in-flight', 'client-kill-busy-primary', 'redis-flushall', 'redis-evict', 'redis-empty-restart'];
    await run('redis', 12, 34, kinds, '--candidates', '3');
  });
});

describe('chaos runs: redlock adapter', () => {
  it('connection resets on the lease’s nodes, a busy primary cut off, a host-wide clock step', { timeout: 45_000 }, async () => {
    await run('redlock', 11, 66, ['reset-in-flight', 'client-kill-busy-primary', 'clock-step-all'], '--candidates', '3');
  });

  it('the lock’s state flushed on a majority of the nodes under a live holder, three times', { timeout: 30_000 }, async () => {
    await run('redlock', 8, 66, ['majority-flushall'], '--candidates', '3');
  });
});

describe('chaos runs: manager', () => {
  it('kills, a hang, a crash after an expiry and a clock step of every process, under the arbiter', { timeout: 50_000 }, async () => {
    // A stop past the heartbeat timeout: the manager kills and replaces the hung worker itself.
    const report = await run('manager', 18, 412, ['kill-primary', 'stop-primary-hung', 'expire-then-kill', 'clock-step-all']);
    expectLongStop(report);
    // The manager re-grants the moment the primary's process exits, after an expiry too.
    expect(report.failover['kill-primary']?.max).toBeLessThan(TTL);
    expect(report.failover['expire-then-kill']?.max).toBeLessThan(TTL);
  });
});

/**
 * The manager's own faults: SIGSTOP past its heartbeat timeout, and SIGKILL (its workers exit with
 * it; it is restarted). The report's manager rules apply: a worker killed as hung that was neither
 * stopped nor busy, and a worker that outlived its killed manager, are violations (never excused).
 */
function expectManagerFaults(report: JsonReport): void {
  const heartbeatTimeout = 2 * 2 * TTL; // 2 × the largest TTL (chaos/protocol.ts)
  const stops = report.faults.list.filter((f) => f.kind === 'stop-manager');
  expect(stops.length).toBeGreaterThan(0);
  for (const stop of stops) expect(stop.ms).toBeGreaterThan(heartbeatTimeout);
  expect(report.hangs?.unexplained).toBe(0);
}

describe('chaos runs: manager faults', () => {
  it('the manager stopped past its heartbeat timeout, and killed and restarted', { timeout: 120_000 }, async () => {
    const report = await run('manager', 14, 6, ['kill-manager', 'stop-manager', 'kill-primary']);
    expectManagerFaults(report);
  });

  it('two managers and a plain process on the default lock: one primary across them', { timeout: 120_000 }, async () => {
    // 2 managers × 2 workers + 1 plain candidate, all without a `lock`: the managers' arbiters and
    // the plain process share the default file lock in the run's XDG_RUNTIME_DIR. Had the plain
    // process another lock, it and a worker would both be primary from the start: an overlap.
    const report = await run('mixed', 17, 9, ['kill-manager', 'stop-manager', 'kill-primary', 'stop-primary-long']);
    expect(report.fleet).toEqual({ perManager: 2, plain: 1 });
    expectManagerFaults(report);
    expectLongStop(report);
  });
});

describe('chaos CLI', () => {
  it('refuses a bad option with exit code 64 and names it', async () => {
    const { code, stderr } = await chaos('--adapter', 'zookeeper');
    expect(code).toBe(64);
    expect(stderr).toContain(
      'Expected --adapter to be one of file, redis, redlock, postgres, mysql, etcd, etcd-cluster, manager, mixed, got "zookeeper"',
    );
  });
});
