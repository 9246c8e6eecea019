/**
 * The job process: a custom process the manager supervises (restarts it when it dies). It takes
 * submissions from the HTTP workers through `worker.onRequest()`, persists each job as `queued`
 * before it replies with the id, and runs the jobs one at a time, in steps, persisting progress
 * after each. On start it first recovers what a killed predecessor left: a `queued` job is run; a
 * `running` one was cut short, so it is retried, up to MAX_ATTEMPTS runs, then marked `failed`
 * with the reason. No job is lost silently, and none stays `running` with no process running it.
 *
 * Environment: JOBS_DIR (the store), STEP_MS (default 500), MAX_ATTEMPTS (default 3).
 */
import { randomUUID } from 'node:crypto';
import { worker } from 'primacy/manager';
import { allJobs, type Job, jobsDir, note, saveJob } from './store.js';

const dir = jobsDir();
const STEP_MS = Number(process.env.STEP_MS ?? 500);
const MAX_ATTEMPTS = Number(process.env.MAX_ATTEMPTS ?? 3);
const queue: Job[] = [];
let current: Job | null = null;

// Recovery runs synchronously, before the handler is registered: a new submission cannot be
// mistaken for a leftover, nor queued twice.
for (const job of allJobs(dir)) {
  if (job.state === 'running') {
    if (job.attempts >= MAX_ATTEMPTS) {
      job.state = 'failed';
      job.error = `the job process died during each of its ${job.attempts} runs (pid ${job.runner} last); gave up after ${MAX_ATTEMPTS} attempts`;
      delete job.runner;
      note(job, 'failed: out of attempts');
      saveJob(dir, job);
      continue;
    }
    job.state = 'queued';
    note(job, `run ${job.attempts} interrupted: the job process (pid ${job.runner}) died; queued again`);
    delete job.runner;
    saveJob(dir, job);
  }
  if (job.state === 'queued') queue.push(job);
}

worker.onRequest(async (payload) => {
  const { submit } = payload as { submit?: Job['input'] };
  if (!submit || !Number.isInteger(submit.steps) || submit.steps < 1 || submit.steps > 1000) {
    throw new Error('expected { submit: { steps: 1..1000, crashAt? } }');
  }
  const now = new Date().toISOString();
  const job: Job = {
    id: randomUUID(),
    state: 'queued',
    input: { steps: submit.steps, ...(Number.isInteger(submit.crashAt) && { crashAt: submit.crashAt }) },
    attempts: 0,
    progress: { step: 0, of: submit.steps },
    history: [],
    createdAt: now,
    updatedAt: now,
  };
  note(job, 'queued');
  // Persisted before the id is handed out: an id the client holds always names a stored job.
  saveJob(dir, job);
  queue.push(job);
  void drain();
  return { id: job.id };
});
void drain();

/** Runs the queued jobs one after another. */
async function drain(): Promise<void> {
  if (current) return;
  for (let job = queue.shift(); job; job = queue.shift()) {
    current = job;
    await run(job);
    current = null;
  }
}

/** One run of a job, from its first step (a retried job starts over). */
async function run(job: Job): Promise<void> {
  job.attempts++;
  job.state = 'running';
  job.runner = process.pid;
  job.progress = { step: 0, of: job.input.steps };
  note(job, `run ${job.attempts} started in pid ${process.pid}`);
  saveJob(dir, job);
  let checksum = 0;
  for (let step = 1; step <= job.input.steps; step++) {
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    // For trying the recovery: this job kills its process at this step, on every run.
    if (job.input.crashAt === step) process.kill(process.pid, 'SIGKILL');
    checksum = (checksum * 31 + step) % 1_000_003;
    job.progress = { step, of: job.input.steps };
    saveJob(dir, job);
  }
  job.state = 'done';
  job.result = { steps: job.input.steps, checksum };
  delete job.runner;
  note(job, `done in run ${job.attempts}`);
  saveJob(dir, job);
}

// Stopped on purpose (the manager's shutdown): the current run is not a failure; hand it back.
process.on('SIGTERM', () => {
  if (current) {
    current.state = 'queued';
    current.attempts--;
    delete current.runner;
    note(current, 'stopped with the job process: queued again');
    saveJob(dir, current);
  }
  process.exit(0);
});
