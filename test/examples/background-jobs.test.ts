/**
 * examples/background-jobs under its own main.ts, with real processes: HTTP workers submit jobs to
 * the job process through the manager (`worker.request('jobs', ...)`) and read the state it
 * persists. A job whose process is SIGKILLed mid-run is retried and finishes; a job that kills its
 * process on every run ends `failed` after MAX_ATTEMPTS; the state is readable all along, and no
 * job is left `running`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../examples/background-jobs/store.js';
import { Child, killAll } from '../../harness/child.js';
import { isRunning } from '../../harness/pids.js';
import { freePort } from '../helpers/free-port.js';
import { until } from '../helpers/until.js';

const main = join(import.meta.dirname, '../../examples/background-jobs/main.ts');
const MAX_ATTEMPTS = 2;

describe('examples/background-jobs', () => {
  let dir: string;
  let port: number;
  let manager: Child;
  const children: Child[] = [];
  const pids = new Set<number>();
  /** Every GET the watcher made: its status and the job's state, in order. */
  let seen: Array<{ status: number; job: Job | null }>;
  let watching = false;

  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const get = async (id: string) => {
    const response = await fetch(url(`/jobs/${id}`), { headers: { connection: 'close' } });
    return { status: response.status, job: response.status === 200 ? ((await response.json()) as Job) : null };
  };
  /** POST /jobs, trying again on 503 (the job process is restarting: the example says "retry"). */
  const submit = async (input: Record<string, unknown>): Promise<string> => {
    const answer = await until(
      async () => {
        const response = await fetch(url('/jobs'), { method: 'POST', body: JSON.stringify(input), headers: { connection: 'close' } });
        if (response.status === 503) return null;
        return { status: response.status, body: (await response.json()) as { id?: string; error?: string } };
      },
      15_000,
      'a submission the job process accepts',
    );
    expect(answer.status, answer.body.error).toBe(202);
    return answer.body.id as string;
  };
  /** Polls GET /jobs/:id until the job's state is `state` (every answer kept in `seen`). */
  const watchUntil = (id: string, done: (job: Job) => boolean, within: number, what: string) =>
    until(
      async () => {
        const answer = await get(id);
        if (watching) seen.push(answer);
        if (answer.job?.runner) pids.add(answer.job.runner);
        return answer.job && done(answer.job) ? answer.job : null;
      },
      within,
      () => `${what}: last ${JSON.stringify(seen.at(-1))}; stderr: ${manager.stderr}`,
    );

  // One run of the example for the whole file (the tests go on from each other's state); the last
  // test stops it.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-background-jobs-'));
    port = await freePort();
    manager = new Child(main, [], {
      PORT: String(port),
      JOBS_DIR: join(dir, 'jobs'),
      XDG_RUNTIME_DIR: dir,
      WORKERS: '2',
      STEP_MS: '150',
      MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    });
    children.push(manager);
    await until(
      () => /ready on port/.test(manager.stderr),
      25_000,
      () => `the example to start: ${manager.stderr}`,
    );
    for (const m of manager.stderr.matchAll(/\(pid (\d+)\) is up/g)) pids.add(Number(m[1]));
  });
  beforeEach(() => {
    seen = [];
    watching = true;
  });
  afterAll(async () => {
    await killAll(children);
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** The store itself: no job is left `running` once the job process is idle, and no temp file either. */
  const storeAtRest = async () => {
    const files = await readdir(join(dir, 'jobs'));
    const jobs = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, 'jobs', f), 'utf8')) as Job));
    return { files, states: jobs.map((job) => job.state) };
  };

  it('runs a submitted job in steps, survives a SIGKILL of the job process mid-job by retrying it, and keeps its state readable throughout', async () => {
    const id = await submit({ steps: 10 });
    // Persisted as queued before the id was handed out.
    const first = await get(id);
    expect(first.status).toBe(200);
    expect(['queued', 'running']).toContain(first.job?.state);
    expect(first.job?.input).toEqual({ steps: 10 });

    const midway = await watchUntil(id, (job) => job.state === 'running' && job.progress.step >= 2, 15_000, 'progress to step 2');
    expect(midway.attempts).toBe(1);
    const killed = midway.runner as number;
    process.kill(killed, 'SIGKILL');

    const retried = await watchUntil(id, (job) => job.attempts === 2 && job.state === 'running', 15_000, 'the retry');
    expect(retried.runner).not.toBe(killed);
    const done = await watchUntil(id, (job) => job.state === 'done', 20_000, 'the job to finish');
    watching = false;
    expect(done).toMatchObject({ attempts: 2, progress: { step: 10, of: 10 }, result: { steps: 10 } });
    expect(done.history.map((h) => h.event)).toEqual([
      'queued',
      `run 1 started in pid ${killed}`,
      `run 1 interrupted: the job process (pid ${killed}) died; queued again`,
      `run 2 started in pid ${retried.runner}`,
      'done in run 2',
    ]);

    // Readable at every moment: while queued, running, after the kill, during the retry, and done.
    expect(seen.every((answer) => answer.status === 200)).toBe(true);
    const states = seen.map((answer) => `${answer.job?.state}/${answer.job?.attempts}`);
    expect(states).toContain('running/1');
    expect(states).toContain('running/2');
    // Progress only moves forward within a run.
    const steps = seen.filter((a) => a.job?.attempts === 2).map((a) => a.job?.progress.step as number);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(await storeAtRest()).toEqual({ files: [`${id}.json`], states: ['done'] });
    expect((await get('00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it(`marks a job that kills its process on every run failed after ${MAX_ATTEMPTS} attempts, and runs the next job`, async () => {
    const before = (await storeAtRest()).files.length;
    const poison = await submit({ steps: 4, crashAt: 2 });
    const next = await submit({ steps: 2 });
    const failed = await watchUntil(poison, (job) => job.state === 'failed', 30_000, 'the poison job to fail');
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.error).toMatch(new RegExp(`died during each of its ${MAX_ATTEMPTS} runs .*gave up after ${MAX_ATTEMPTS} attempts`));
    expect(failed.runner).toBeUndefined();
    const done = await watchUntil(next, (job) => job.state === 'done', 20_000, 'the next job to finish');
    expect(done.attempts).toBe(1);
    watching = false;
    expect(seen.every((answer) => answer.status === 200)).toBe(true);
    // The job process is up again and takes new work.
    const after = await submit({ steps: 1 });
    await watchUntil(after, (job) => job.state === 'done', 15_000, 'a job after the failures');
    const rest = await storeAtRest();
    expect(rest.files).toHaveLength(before + 3);
    expect(rest.states.filter((state) => state !== 'done')).toEqual(['failed']);
    expect(manager.stderr).toMatch(/jobs \(pid \d+\) exited \(SIGKILL\)/);
  });

  it('answers 400 to a bad submission and 404 to an unknown job; on SIGTERM it hands the running job back to the queue and stops everything', async () => {
    const bad = await fetch(url('/jobs'), { method: 'POST', body: '{"steps":0}' });
    expect(bad.status).toBe(400);
    expect((await get('not-an-id')).status).toBe(404);
    const id = await submit({ steps: 100 });
    await watchUntil(id, (job) => job.state === 'running' && job.progress.step >= 1, 15_000, 'the job to run');
    manager.kill('SIGTERM');
    expect(await manager.exited, manager.stderr).toEqual({ code: 0, signal: null });
    // Not a failed run: queued again, for the next start to run from the beginning.
    const stopped = JSON.parse(await readFile(join(dir, 'jobs', `${id}.json`), 'utf8')) as Job;
    expect(stopped).toMatchObject({ state: 'queued', attempts: 0 });
    expect(stopped.history.at(-1)?.event).toBe('stopped with the job process: queued again');
    for (const pid of pids) expect(isRunning(pid), `pid ${pid} outlived the manager`).toBe(false);
  });
});
