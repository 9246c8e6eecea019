/**
 * The worker manager with real processes: node:cluster workers, real signals, the arbiter over IPC.
 * Bounds are generous; the timing goals live in bench/.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { isRunning } from '../../harness/pids.js';
import { descendants } from '../../src/manager/process-tree.js';
import { expectOnePrimaryAtATime, termEvents } from '../helpers/terms.js';

const main = join(import.meta.dirname, '../fixtures/manager-main.ts');
const alive = isRunning;

describe('worker manager', () => {
  let stateDir: string;
  const managers: Child[] = [];
  const startManager = (env: Record<string, string> = {}) => {
    const manager = new Child(main, [], { STATE_DIR: stateDir, ...env });
    managers.push(manager);
    return manager;
  };
  const workerPids = (manager: Child) => new Set(manager.events.filter((e) => e.ev === 'acked').map((e) => e.workerPid as number));
  const elected = (manager: Child, after = 0) => manager.waitFor((e) => e.ev === 'elected' && e.t > after, 10_000);

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'primacy-manager-'));
  });
  afterEach(async () => {
    const pids = managers.flatMap((m) => [...workerPids(m)]);
    await killAll(managers);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts and acks every worker, and elects exactly one primary through the arbiter', async () => {
    const manager = startManager();
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    expect(workerPids(manager).size).toBe(3);
    const first = await elected(manager);
    await new Promise((r) => setTimeout(r, 500));
    expect(manager.events.filter((e) => e.ev === 'elected')).toHaveLength(1);
    const mark = manager.events.length;
    manager.send('status');
    const status = await manager.waitFor((e) => e.ev === 'status', 5000, mark);
    const workers = status.workers as Array<{ pid: number; primary: boolean; state: string }>;
    expect(workers.map((w) => w.state)).toEqual(['ACKED', 'ACKED', 'ACKED']);
    expect(workers.filter((w) => w.primary).map((w) => w.pid)).toEqual([first.pid]);
  });

  it('keeps one primary when every worker campaigns with the same identity label', async () => {
    const manager = startManager({ APP_IDENTITY: 'pod-7' });
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    await elected(manager);
    // Every follower retries within retryInterval (5 s ± 20%): one that took the shared label for
    // its own would have been granted the lease.
    await new Promise((r) => setTimeout(r, 6500));
    expect(manager.events.filter((e) => e.ev === 'elected')).toHaveLength(1);
  });

  it('grants a new primary within moments of the old one dying, and replaces the dead worker in its slot', async () => {
    // A lease left to run out (TTL 10 s) would end 6 s after the kill at the soonest, and the
    // followers' retries (20 s ± 20%) come later still: the bound below leaves room for neither.
    const manager = startManager({ APP_TTL: '10000', APP_RETRY_INTERVAL: '20000' });
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const first = await elected(manager);
    const killedAt = wallNow();
    process.kill(first.pid, 'SIGKILL');
    const next = await elected(manager, killedAt);
    expect(next.pid).not.toBe(first.pid);
    // The manager saw the exit and woke a follower: no TTL and no retry interval was waited for.
    expect(next.t - killedAt).toBeLessThan(3000);
    expect(next.token as number).toBeGreaterThan(first.token as number);
    const replaced = await manager.waitFor((e) => e.ev === 'acked' && e.name === first.name && e.workerPid !== first.pid, 15_000);
    expect(replaced.starts).toBe(2);
  });

  it('detects a SIGSTOPped worker by its missing heartbeats, kills it and replaces it', async () => {
    const manager = startManager();
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const victim = manager.events.find((e) => e.ev === 'acked') as ChildEvent;
    const stoppedAt = wallNow();
    process.kill(victim.workerPid as number, 'SIGSTOP');
    const hung = await manager.waitFor((e) => e.ev === 'hung' && e.name === victim.name, 10_000);
    // Silence counts from the last heartbeat (up to one 200 ms interval before the stop).
    expect(hung.silentFor as number).toBeGreaterThan(1000);
    expect(hung.t - stoppedAt).toBeGreaterThan(1000 - 200);
    await manager.waitFor((e) => e.ev === 'acked' && e.name === victim.name && e.workerPid !== victim.workerPid, 15_000);
    expect(alive(victim.workerPid as number)).toBe(false);
  });

  it('marks a crash-looping slot FAILED after the burst limit', async () => {
    const manager = startManager({ APP_MODE: 'crash', WORKERS: '1', ACK_TIMEOUT: '15000' });
    const failed = await manager.waitFor((e) => e.ev === 'failed', 20_000);
    expect(failed.reason).toMatch(/crash loop: 4 exits within 10000 ms/);
    expect(failed.state).toBe('FAILED');
  });

  it('exits 1 with a message naming the worker when a worker never acks at start', async () => {
    const manager = startManager({ APP_MODE: 'no-ack', WORKERS: '2', ACK_TIMEOUT: '1500' });
    const { code } = await manager.exited;
    expect(code).toBe(1);
    expect(manager.stderr).toMatch(/start failed: worker-\d \(pid \d+\) did not ack within 1500 ms/);
  });

  it('takes every worker down with it when the manager is SIGKILLed', async () => {
    const manager = startManager();
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const pids = [...workerPids(manager)];
    manager.kill('SIGKILL');
    await manager.exited;
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('keeps every healthy worker through a pause of the manager itself, and still catches the one that hung meanwhile', async () => {
    const manager = startManager();
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const [hung, ...healthy] = [...workerPids(manager)];
    process.kill(hung as number, 'SIGSTOP');
    manager.kill('SIGSTOP');
    // Four heartbeat timeouts (1 s each): every worker looks silent from the manager's own gap.
    await new Promise((r) => setTimeout(r, 4000));
    const resumedAt = wallNow();
    manager.kill('SIGCONT');
    const caught = await manager.waitFor((e) => e.ev === 'hung', 10_000);
    expect(caught.workerPid).toBe(hung);
    // Judged on the manager's running time: a full timeout after it resumed, not at once.
    expect(caught.t - resumedAt).toBeGreaterThan(500);
    await new Promise((r) => setTimeout(r, 2000));
    expect(manager.events.filter((e) => e.ev === 'hung').map((e) => e.workerPid)).toEqual([hung]);
    expect(healthy.filter((pid) => !alive(pid))).toEqual([]);
  });

  it('elects one primary after a manager pause past the TTL, whatever the replies its workers stopped waiting for', async () => {
    const manager = startManager({ WORKERS: '2' });
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const first = await elected(manager);
    manager.kill('SIGSTOP');
    // Past the TTL (3 s) several times: the primary steps down, and both workers' acquires time out
    // and pile up in the pipes. Answered late, each is given back; none of those give-backs may end
    // the grant a later acquire got with the same token.
    await new Promise((r) => setTimeout(r, 12_000));
    manager.kill('SIGCONT');
    await elected(manager, first.t + 1);
    await new Promise((r) => setTimeout(r, 3000));
    expectOnePrimaryAtATime(manager.events);
    const terms = termEvents(manager.events);
    const tokens = terms.filter((e) => e.ev === 'elected').map((e) => e.token as number);
    expect(tokens).toEqual([...new Set(tokens)].sort((a, b) => a - b));
  });

  it('starts with workers that acked while the manager itself was stopped, past its ack timeout', async () => {
    const manager = startManager({ WORKERS: '2', ACK_TIMEOUT: '3000' });
    // Once both workers are forked (and booting), the manager stops for twice the ack timeout.
    const deadline = Date.now() + 20_000;
    while (descendants(manager.pid).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    manager.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6000));
    manager.kill('SIGCONT');
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    expect(manager.stderr).not.toMatch(/did not ack/);
  });

  it('refuses to start beside a live manager of the same name, naming its pid, and starts at once after one was killed', async () => {
    const first = startManager({ WORKERS: '1' });
    await first.waitFor((e) => e.ev === 'started', 20_000);
    const second = startManager({ WORKERS: '1' });
    expect((await second.exited).code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`a manager named "primacy" is already running: pid ${first.pid} `));
    expect(second.events.filter((e) => e.ev === 'acked')).toEqual([]);
    // The first one was left alone, its socket and workers included.
    expect([...workerPids(first)].filter(alive)).toHaveLength(1);
    first.kill('SIGKILL');
    await first.exited;
    const third = startManager({ WORKERS: '1' });
    await third.waitFor((e) => e.ev === 'started', 20_000);
  });

  it('keeps fencing tokens increasing across manager restarts (the backend lock keeps them)', async () => {
    const first = startManager();
    await first.waitFor((e) => e.ev === 'started', 20_000);
    const before = await elected(first);
    first.kill('SIGTERM');
    await first.exited;
    const second = startManager();
    const after = await elected(second);
    expect(after.token as number).toBeGreaterThan(before.token as number);
  });

  it('replaces a worker whose custom health check fails, and reports memory per worker', async () => {
    const manager = startManager({ UNHEALTHY_DIR: stateDir, WORKERS: '2' });
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    await new Promise((r) => setTimeout(r, 500)); // a few heartbeats
    const mark = manager.events.length;
    manager.send('status');
    const status = await manager.waitFor((e) => e.ev === 'status', 5000, mark);
    for (const w of status.workers as Array<{ memory: number }>) expect(w.memory).toBeGreaterThan(10 * 1024 * 1024);
    const victim = (status.workers as Array<{ name: string; pid: number }>)[1] as { name: string; pid: number };
    await writeFile(join(stateDir, victim.name), '');
    const unhealthy = await manager.waitFor((e) => e.ev === 'unhealthy' && e.name === victim.name, 10_000);
    expect(unhealthy.reason).toBe('health check failed');
    await rm(join(stateDir, victim.name));
    const back = await manager.waitFor((e) => e.ev === 'acked' && e.name === victim.name && e.workerPid !== victim.pid, 15_000);
    expect(back.starts).toBe(2);
  });

  it('answers a worker that asks for the table of workers over IPC', async () => {
    const manager = startManager({ ASK_MANAGER: 'worker-1', WORKERS: '2' });
    const snapshot = await manager.waitFor((e) => e.ev === 'snapshot', 20_000);
    expect((snapshot.workers as Array<{ name: string }>).map((w) => w.name)).toEqual(['worker-0', 'worker-1']);
  });

  it('is detected by its missing heartbeats (alive, but its loop never turns), killed and replaced', async () => {
    const manager = startManager({ APP_MODE: 'busy', WORKERS: '2' });
    await manager.waitFor((e) => e.ev === 'started', 20_000);
    const first = manager.events.find((e) => e.ev === 'acked' && e.name === 'worker-0') as ChildEvent;
    const hung = await manager.waitFor((e) => e.ev === 'hung' && e.name === 'worker-0', 10_000);
    expect(hung.silentFor as number).toBeGreaterThan(1000);
    await manager.waitFor((e) => e.ev === 'acked' && e.name === 'worker-0' && e.workerPid !== first.workerPid, 15_000);
    expect(alive(first.workerPid as number)).toBe(false);
  });
});
