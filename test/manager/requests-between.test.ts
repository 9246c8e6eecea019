/**
 * Requests between managed processes through the manager (`worker.request()` / `worker.onRequest()`),
 * with real processes: server workers asking custom processes and back, a group picked round robin,
 * and every failure provoked for real (a SIGKILLed target, a RESTARTING one, one without a handler,
 * a handler that never answers or throws, a sender killed mid-request, garbage on the channel).
 * After each, the manager holds no request in flight.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { isRunning } from '../../harness/pids.js';
import { PrimacyConfigError } from '../../src/errors.js';
import { PrimacyRequestError, worker } from '../../src/manager/index.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const main = join(import.meta.dirname, 'fixtures/requests-manager.ts');

interface Answer {
  ok: boolean;
  result?: { by?: string; pid?: number; payload?: unknown; from?: { name: string; pid: number }; relayedBy?: string; reply?: unknown };
  reason?: string;
  message?: string;
  sender: string;
}

describe('requests between managed processes', () => {
  let stateDir: string;
  let port: number;
  let manager: Child;
  const children: Child[] = [];
  const pids = () => new Set(manager.events.filter((e) => e.ev === 'acked').map((e) => e.workerPid as number));

  /** Asks `target` from a server worker (whichever the connection lands on). */
  const ask = async (target: unknown, payload: unknown, timeout?: number): Promise<Answer> => {
    const response = await fetch(`http://127.0.0.1:${port}/ask`, {
      method: 'POST',
      body: JSON.stringify({ target, payload, timeout }),
      headers: { connection: 'close' },
    });
    return (await response.json()) as Answer;
  };
  /** The pid of the process now serving `name` (its latest ack). */
  const pidOf = (name: string) => manager.events.findLast((e) => e.ev === 'acked' && e.name === name)?.workerPid as number;
  const inFlight = async () => {
    const mark = manager.events.length;
    manager.send('inflight');
    return (await manager.waitFor((e) => e.ev === 'inflight', 5000, mark)).count as number;
  };
  const settledEverywhere = () => until(async () => (await inFlight()) === 0, 5000, 'no request left in flight');

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'primacy-requests-'));
    port = await freePort();
    manager = new Child(main, [], { STATE_DIR: stateDir, PORT: String(port) });
    children.push(manager);
    await manager.waitFor((e) => e.ev === 'started', 25_000, 0, 'start');
  });
  afterAll(async () => {
    const workers = [...pids()];
    await killAll(children);
    for (const pid of workers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('carries a request from a server worker to a custom process and its reply back, naming the sender', async () => {
    const answer = await ask('solo', { echo: { n: 1, list: ['a'] } });
    expect(answer.ok, answer.message).toBe(true);
    expect(answer.result).toMatchObject({ by: 'solo', pid: pidOf('solo'), payload: { echo: { n: 1, list: ['a'] } } });
    expect(answer.result?.from).toEqual({ name: answer.sender, pid: pidOf(answer.sender) });
  });

  it('holds a request for a young process until its module registers its handler', async () => {
    const mark = manager.events.length;
    const answer = await ask('late', { echo: 'early' });
    expect(answer.ok, answer.message).toBe(true);
    expect(answer.result).toMatchObject({ by: 'late', payload: { echo: 'early' } });
    // Printed before it answered; its line may still be on its way through the manager's pipes.
    expect((await manager.waitFor((e) => e.ev === 'late-handler', 5000, mark)).waiting).toBe(1);
  });

  it('carries a request from a custom process to each server worker', async () => {
    for (const target of ['worker-0', 'worker-1']) {
      const answer = await ask('solo', { relay: { target, payload: { hello: target } } });
      expect(answer.ok, answer.message).toBe(true);
      expect(answer.result?.relayedBy).toBe('solo');
      expect(answer.result?.reply).toEqual({
        by: target,
        pid: pidOf(target),
        payload: { hello: target },
        from: { name: 'solo', pid: pidOf('solo') },
      });
    }
  });

  it('spreads requests to a group over its live members, round robin', async () => {
    const by: string[] = [];
    for (let i = 0; i < 6; i++) by.push((await ask('jobs', { echo: i })).result?.by as string);
    expect(new Set(by)).toEqual(new Set(['jobs-0', 'jobs-1']));
    // Alternating: each request goes to the member the previous one did not.
    for (let i = 1; i < by.length; i++) expect(by[i]).not.toBe(by[i - 1]);
    // A member is also reachable by its own name.
    expect((await ask('jobs-1', { echo: 'direct' })).result?.by).toBe('jobs-1');
  });

  it('fails a request to an unknown name, listing the known ones', async () => {
    const answer = await ask('mailer', { echo: 1 });
    expect(answer).toMatchObject({ ok: false, reason: 'unknown-target' });
    expect(answer.message).toBe(
      '[primacy] [request] no process named "mailer" (known: worker-0, worker-1, jobs (jobs-0, jobs-1), solo, late, bare)',
    );
    expect(await ask('', 1)).toMatchObject({
      ok: false,
      reason: null,
      message: expect.stringMatching(/Expected `target` to be a process name/),
    });
  });

  it("passes the handler's error on, and a reply JSON cannot carry as an error too", async () => {
    const thrown = await ask('solo', { throw: 'the disk is full' });
    expect(thrown).toMatchObject({ ok: false, reason: 'handler-error' });
    expect(thrown.message).toBe(`[primacy] [request] solo (pid ${pidOf('solo')})'s handler failed: the disk is full`);
    const big = await ask('solo', { bigint: true });
    expect(big).toMatchObject({ ok: false, reason: 'handler-error' });
    expect(big.message).toMatch(/its reply cannot be sent: Do not know how to serialize a BigInt/);
    await settledEverywhere();
  });

  it('times out a request whose handler never answers, and forgets it', async () => {
    const started = performance.now();
    const answer = await ask('solo', { never: true }, 600);
    expect(answer).toMatchObject({ ok: false, reason: 'timeout' });
    expect(answer.message).toBe(`[primacy] [request] no reply from solo (pid ${pidOf('solo')}) within 600 ms`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    await settledEverywhere();
  });

  it('fails a request at once when its target is SIGKILLed mid-request, and the group goes on with the other member', async () => {
    const mark = manager.events.length;
    const pending = ask('jobs-1', { never: true }, 25_000);
    const handling = await manager.waitFor((e) => e.ev === 'handling' && e.name === 'jobs-1', 10_000, mark);
    const killedAt = performance.now();
    process.kill(handling.pid, 'SIGKILL');
    const answer = await pending;
    expect(answer).toMatchObject({ ok: false, reason: 'exited' });
    expect(answer.message).toBe(`[primacy] [request] jobs-1 (pid ${handling.pid}) exited before replying`);
    // The exit, not the 25 s timeout.
    expect(performance.now() - killedAt).toBeLessThan(10_000);
    await settledEverywhere();
    // Restarted at once (its first crash): it answers again, under a new pid.
    await manager.waitFor((e) => e.ev === 'acked' && e.name === 'jobs-1' && e.workerPid !== handling.pid, 15_000, mark);
    await until(async () => (await ask('jobs-1', { echo: 'back' })).ok, 10_000, 'jobs-1 answering again');
  });

  // Here, as solo is killed next: its new process has its handler again.
  it('fails a request to a process that removed its handler', async () => {
    expect((await ask('solo', { unsubscribe: true })).result).toBe('unsubscribed');
    expect(await ask('solo', { echo: 1 })).toMatchObject({ ok: false, reason: 'no-handler' });
  });

  it('fails a request to a target that is RESTARTING with its state and "retry later"', async () => {
    const first = pidOf('solo');
    let mark = manager.events.length;
    process.kill(first, 'SIGKILL');
    await manager.waitFor((e) => e.ev === 'acked' && e.name === 'solo', 15_000, mark);
    // Its second crash in a row waits out the 2.5 s backoff.
    mark = manager.events.length;
    process.kill(pidOf('solo'), 'SIGKILL');
    await manager.waitFor((e) => e.ev === 'restarting' && e.name === 'solo' && (e.delay as number) > 0, 10_000, mark);
    const answer = await ask('solo', { echo: 1 });
    expect(answer).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(answer.message).toBe('[primacy] [request] solo has no live process to take the request (RESTARTING); retry later');
    // A process asking gets the same answer.
    const relayed = await ask('jobs-0', { relay: { target: 'solo', payload: 1 } });
    expect(relayed).toMatchObject({ ok: false, reason: 'handler-error' });
    expect(relayed.message).toMatch(/handler failed: \[primacy\] \[request\] solo has no live process .*RESTARTING.*retry later/);
  });

  it("drops the requests of a sender killed mid-request; the target's late answer goes nowhere", async () => {
    const mark = manager.events.length;
    const pending = ask('jobs', { never: true }, 25_000).catch((error: Error) => error);
    const asking = await manager.waitFor((e) => e.ev === 'asking', 10_000, mark);
    await manager.waitFor((e) => e.ev === 'handling', 10_000, mark);
    expect(await inFlight()).toBe(1);
    process.kill(asking.pid, 'SIGKILL');
    expect(await pending).toBeInstanceOf(Error);
    await settledEverywhere();
    // The manager replaced the sender and still routes.
    await manager.waitFor((e) => e.ev === 'acked' && e.name === asking.name && e.workerPid !== asking.pid, 15_000, mark);
    await until(async () => (await ask('jobs', { echo: 'still' }).catch(() => ({ ok: false }))).ok, 10_000, 'routing after the kill');
  });

  it('ignores malformed and forged request messages, and keeps routing', async () => {
    await until(async () => (await ask('solo', { echo: 1 })).ok, 15_000, 'solo back from its backoff');
    const mark = manager.events.length;
    // A request in flight to another process, which the forged answers must not settle.
    const waiting = ask('jobs', { never: true }, 3000);
    await manager.waitFor((e) => e.ev === 'handling', 10_000, mark);
    expect((await ask('solo', { garbage: true })).result).toBe('sending');
    await manager.waitFor((e) => e.ev === 'garbage-sent', 10_000, mark);
    // The channel is ordered: a round trip through solo comes after its garbage.
    const after = await ask('solo', { relay: { target: 'worker-0', payload: 'after' } });
    expect(after.ok, after.message).toBe(true);
    expect(await waiting).toMatchObject({ ok: false, reason: 'timeout' });
    expect(manager.running).toBe(true);
    expect(manager.events.filter((e: ChildEvent) => e.ev === 'warning')).toEqual([]);
    await settledEverywhere();
  });

  // Last: a process that never registered a handler says so once it is 10 s old (before that, its
  // module may still be loading), so this may wait for that.
  it('fails a request to a process that never registered a handler', async () => {
    const bare = await ask('bare', { echo: 1 });
    expect(bare).toMatchObject({ ok: false, reason: 'no-handler' });
    expect(bare.message).toBe(
      `[primacy] [request] bare (pid ${pidOf('bare')}) has no request handler (it never called worker.onRequest())`,
    );
  });
});

describe('worker.request() outside the manager, and bad arguments', () => {
  it('rejects in a process the manager does not run', async () => {
    const error = await worker.request('jobs', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrimacyRequestError);
    expect(error).toMatchObject({ reason: 'not-managed', target: 'jobs' });
  });

  it('names the argument and the value it got', async () => {
    await expect(worker.request('jobs', { n: 1n })).rejects.toThrow(PrimacyConfigError);
    await expect(worker.request('jobs', { n: 1n })).rejects.toThrow(/Expected `payload` to be a JSON-serialisable value/);
    await expect(worker.request('jobs', 1, { timeout: 0 })).rejects.toThrow(
      /Expected `timeout` to be a whole number >= 1|Expected `timeout` to be a finite/,
    );
    await expect(worker.request('jobs', 1, { timeot: 5 } as never)).rejects.toThrow(/timeot/);
    await expect(worker.request(42 as never, 1)).rejects.toThrow(/Expected `target` to be a process name.*got 42 \(number\)/);
  });

  it('takes one handler per process, and another once the first is removed', () => {
    const off = worker.onRequest(() => 1);
    expect(() => worker.onRequest(() => 2)).toThrow(/already has a request handler/);
    off();
    worker.onRequest(() => 3)();
    expect(() => worker.onRequest('nope' as never)).toThrow(/Expected `handler` to be a function/);
  });
});
