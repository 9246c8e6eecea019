/**
 * examples/nestjs run as a user would: three instances of the Nest app on one file lock (in a temp
 * directory), with a `@Cron('* * * * * *')` and an `@Interval(150)` job guarded by `@PrimaryOnly()`.
 * Faults are real signals: SIGKILL of the primary, then SIGTERM of the next one (the app has
 * `enableShutdownHooks()`). Across the three, no second ticks twice, ticks go on after each
 * takeover with a higher fencing token, and the injected Election answers over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';

const APP = join(import.meta.dirname, '..', '..', 'examples', 'nestjs');
const TTL = 10_000;
const children: Child[] = [];
let lockDir: string | undefined;

afterAll(async () => {
  await killAll(children);
  if (lockDir) await rm(lockDir, { recursive: true, force: true });
});

interface Instance {
  child: Child;
  port: number;
}

interface Status {
  pid: number;
  isPrimary: boolean;
  token: number | null;
  holder: { pid: number; token: number } | null;
}

async function status(instance: Instance): Promise<Status> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/primacy`);
  expect(response.status).toBe(200);
  return (await response.json()) as Status;
}

/** Every instance answers through its injected Election: one is primary, all name it the holder. */
async function expectOnePrimary(instances: Instance[], primary: Instance): Promise<void> {
  const answers = await Promise.all(instances.map(status));
  expect(answers.filter((answer) => answer.isPrimary).map((answer) => answer.pid)).toEqual([primary.child.pid]);
  for (const answer of answers) expect(answer.holder?.pid).toBe(primary.child.pid);
}

/** The instance other than `previous` that reports `elected` first at or after `since`. */
function nextPrimary(instances: Instance[], previous: Instance | null, since: number, within: number) {
  return Promise.any(
    instances
      .filter((instance) => instance !== previous)
      .map(async (instance) => ({ instance, at: (await instance.child.waitFor((e) => e.ev === 'elected' && e.t >= since, within)).t })),
  );
}

const ticksOf = (child: Child, since: number) => child.events.filter((e) => e.ev === 'tick' && e.t >= since).length;

it('three Nest instances: one primary runs the jobs; SIGKILL and SIGTERM of the primary hand over, no second ticks twice', async () => {
  lockDir = await mkdtemp(join(tmpdir(), 'primacy-nestjs-'));
  const env = { PORT: '0', LOCK_DIR: lockDir, LOCK_NAME: 'nestjs-test', PRIMACY_TTL: String(TTL) };
  // Run from the example's directory: tsx reads its tsconfig.json (Nest's legacy decorators) there.
  for (let i = 0; i < 3; i++) children.push(new Child(join(APP, 'main.ts'), [], env, { cwd: APP }));
  const instances: Instance[] = await Promise.all(
    children.map(async (child) => ({ child, port: Number((await child.waitFor((e) => e.ev === 'listening', 30_000)).port) })),
  );
  // Each app's init() awaited its first round: exactly one was elected, before it listened.
  const first = await nextPrimary(instances, null, 0, 5000);
  await expectOnePrimary(instances, first.instance);
  await first.instance.child.waitFor((e) => e.ev === 'tick' && e.t > first.at, 5000);

  // Fault 1: the primary dies without a word; the file lock sees its pid gone and another takes over.
  const killedAt = wallNow();
  first.instance.child.kill('SIGKILL');
  const second = await nextPrimary(instances, first.instance, killedAt, TTL / 2);
  const survivors = instances.filter((instance) => instance !== first.instance);
  await second.instance.child.waitFor((e) => e.ev === 'tick' && e.t > second.at, 5000);
  await expectOnePrimary(survivors, second.instance);

  // Fault 2: SIGTERM. Shutdown hooks abort and await the jobs, then release: the last one is elected at once.
  const terminatedAt = wallNow();
  second.instance.child.kill('SIGTERM');
  const third = await nextPrimary(survivors, second.instance, terminatedAt, TTL / 2);
  const exit = await second.instance.child.exited;
  // Nest re-raises the signal after app.close(): the process ends as SIGTERM would have ended it.
  expect(exit.signal ?? exit.code, second.instance.child.stderr).toBe('SIGTERM');
  const released = second.instance.child.events.find((e) => e.ev === 'revoked');
  expect(released).toMatchObject({ reason: 'stopped' });
  expect((released as ChildEvent).t).toBeLessThanOrEqual(third.at);
  const last = survivors.filter((instance) => instance !== second.instance);
  await until2Ticks(third.instance.child, third.at);
  await expectOnePrimary(last, third.instance);

  // Who ran what: each job only on the primary of its term, each term with a higher token.
  const terms = [first, second, third];
  const termAt = (t: number) => terms.filter((term) => term.at <= t).at(-1);
  const runs = children.flatMap((child) => child.events.filter((e) => e.ev === 'tick' || e.ev === 'sweep'));
  for (const run of runs) expect(run.pid, `${run.ev} ${JSON.stringify(run)}`).toBe(termAt(run.t)?.instance.child.pid);
  const tokens = terms.map((term) => term.instance.child.events.find((e) => e.ev === 'elected' && e.t === term.at)?.token as number);
  expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
  expect(new Set(tokens).size).toBe(3);
  for (const run of runs) expect(run.token).toBe(tokens[terms.indexOf(termAt(run.t) as (typeof terms)[number])]);

  const ticks = runs.filter((run) => run.ev === 'tick').sort((a, b) => a.t - b.t);
  const seconds = ticks.map((tick) => tick.second);
  expect(new Set(seconds).size, `a second ticked twice: ${JSON.stringify(ticks)}`).toBe(seconds.length);
  for (const term of terms) expect(ticks.some((tick) => tick.pid === term.instance.child.pid)).toBe(true);
  expect(runs.some((run) => run.ev === 'sweep' && run.pid === third.instance.child.pid)).toBe(true);
  // Both takeovers came long before the TTL: the dead holder was detected, the stopped one released.
  expect(second.at - killedAt).toBeLessThan(TTL / 4);
  expect(third.at - terminatedAt).toBeLessThan(TTL / 4);
  console.log(
    `[nestjs] ${ticks.length} ticks, ${runs.length - ticks.length} sweeps; takeover after SIGKILL ` +
      `${(second.at - killedAt).toFixed(0)} ms, after SIGTERM ${(third.at - terminatedAt).toFixed(0)} ms (released after ${((released as ChildEvent).t - terminatedAt).toFixed(0)} ms)`,
  );
});

/** Two ticks of `child` after `since`: the schedule goes on under the new primary. */
async function until2Ticks(child: Child, since: number): Promise<void> {
  await child.waitFor(() => ticksOf(child, since) >= 2, 6000, 0, 'two ticks of the new primary');
}
