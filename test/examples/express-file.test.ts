/**
 * examples/express-file run as a user would: four instances of the Express app on one host, the
 * default file lock, a once-a-second job on the primary. Faults are real signals: SIGKILL of the
 * primary, then SIGTERM of the next one. The ticks they print must show one primary at a time
 * (no second ticked twice), a short gap at each handover, and /healthz must agree over HTTP.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLock } from 'primacy';
import { afterAll, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';

const SERVER = join(import.meta.dirname, '..', '..', 'examples', 'express-file', 'server.ts');
const TTL = 10_000;
// Ticks fall on whole seconds, so a takeover that crosses a boundary skips one tick: a gap of one
// period (1 s) plus the failover bound (a same-host follower is woken at once, and polls every
// retryInterval = 1 s at worst), plus timer slack. A gap of 3 s or more would mean two lost ticks.
const MAX_GAP = 2500;
const name = `express-file-${process.pid}-${Math.random().toString(36).slice(2)}`;
const children: Child[] = [];

afterAll(async () => {
  await killAll(children);
  await rm(fileLock().path(name), { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  child: Child;
  port: number;
}

async function health(instance: Instance) {
  const response = await fetch(`http://127.0.0.1:${instance.port}/healthz`);
  return { status: response.status, body: (await response.json()) as { role: string; ok: boolean; holder: { pid: number } | null } };
}

/** Asks every instance over HTTP; exactly one must answer primary, the others name it as the holder. */
async function expectOnePrimary(instances: Instance[], primary: Instance): Promise<void> {
  const answers = await Promise.all(instances.map(health));
  expect(answers.map((answer) => answer.status)).toEqual(instances.map(() => 200));
  expect(answers.filter((answer) => answer.body.role === 'primary')).toHaveLength(1);
  expect(answers[instances.indexOf(primary)]?.body.role).toBe('primary');
  for (const answer of answers) expect(answer.body.holder?.pid).toBe(primary.child.pid);
}

/** The instance other than `previous` that reports `elected` first at or after `since` (wall ms). */
async function nextPrimary(instances: Instance[], previous: Instance | null, since: number, within: number) {
  const candidates = instances.filter((instance) => instance !== previous);
  return Promise.any(
    candidates.map(async (instance) => {
      const event = await instance.child.waitFor((e) => e.ev === 'elected' && e.t >= since, within);
      return { instance, at: event.t };
    }),
  );
}

it('four instances: one primary ticks each second; SIGKILL and SIGTERM of the primary hand over without a duplicate or a long gap', async () => {
  const env = { PORT: '0', LOCK_NAME: name, PRIMACY_TTL: String(TTL) };
  for (let i = 0; i < 4; i++) children.push(new Child(SERVER, [], env));
  const instances: Instance[] = await Promise.all(
    children.map(async (child) => ({ child, port: Number((await child.waitFor((e) => e.ev === 'listening', 20_000)).port) })),
  );
  const first = await nextPrimary(instances, null, 0, 5000);
  await expectOnePrimary(instances, first.instance);
  await sleep(4000);

  // Fault 1: the primary dies without a word. Its file lock is taken over as soon as its pid is gone.
  const killedAt = wallNow();
  first.instance.child.kill('SIGKILL');
  const second = await nextPrimary(instances, first.instance, killedAt, TTL / 2);
  const survivors = instances.filter((instance) => instance !== first.instance);
  await sleep(4000);
  await expectOnePrimary(survivors, second.instance);

  // Fault 2: a graceful stop. server.close() stops the job and releases the lock before the exit.
  const terminatedAt = wallNow();
  second.instance.child.kill('SIGTERM');
  const third = await nextPrimary(survivors, second.instance, terminatedAt, TTL / 2);
  expect(await second.instance.child.exited).toEqual({ code: 0, signal: null });
  const last = survivors.filter((instance) => instance !== second.instance);
  await sleep(3000);
  await expectOnePrimary(last, third.instance);
  const endedAt = wallNow();

  const ticks = children.flatMap((child) => child.events.filter((event) => event.ev === 'tick')).sort((a, b) => a.t - b.t) as Array<
    ChildEvent & { second: number; token: number }
  >;
  const seconds = ticks.map((tick) => tick.second);
  expect(new Set(seconds).size, `a second ticked twice: ${JSON.stringify(ticks)}`).toBe(seconds.length);
  const gaps = ticks.slice(1).map((tick, i) => tick.t - (ticks[i] as ChildEvent).t);
  const maxGap = Math.max(...gaps);
  console.log(
    `[express-file] ${ticks.length} ticks; max gap ${maxGap.toFixed(0)} ms; takeover after SIGKILL ` +
      `${(second.at - killedAt).toFixed(1)} ms, after SIGTERM ${(third.at - terminatedAt).toFixed(1)} ms`,
  );
  expect(maxGap).toBeLessThanOrEqual(MAX_GAP);
  expect((ticks[0] as ChildEvent).t - first.at).toBeLessThanOrEqual(MAX_GAP);
  expect(endedAt - (ticks.at(-1) as ChildEvent).t).toBeLessThanOrEqual(MAX_GAP);
  // Who ticked when: each primary only during its own term, with its own (increasing) fencing token.
  const termOf = (t: number) => (t < second.at ? first : t < third.at ? second : third).instance.child.pid;
  for (const tick of ticks) expect(tick.pid, `tick ${JSON.stringify(tick)}`).toBe(termOf(tick.t));
  const tokens = ticks.map((tick) => tick.token);
  expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
  expect(new Set(tokens).size).toBe(3);
  // Both takeovers came long before the TTL: the dead holder was detected, the stopped one released
  // (a lease left to expire would end 6 s after the signal at the soonest).
  expect(second.at - killedAt).toBeLessThan(TTL / 4);
  expect(third.at - terminatedAt).toBeLessThan(TTL / 4);
});
