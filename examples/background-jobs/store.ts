/**
 * The job store: one JSON file per job in a directory, written atomically (a temp file, then a
 * rename), so a reader (the HTTP workers) sees the previous state or the next, never half a file,
 * even if the job process is killed mid-write.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  state: JobState;
  /** What was submitted: `steps` to run (and `crashAt`, a step at which the job process kills itself). */
  input: { steps: number; crashAt?: number };
  /** Runs started, this one included: a run cut short by a dead job process is retried up to MAX_ATTEMPTS. */
  attempts: number;
  progress: { step: number; of: number };
  result?: { steps: number; checksum: number };
  /** Why it failed (state `failed`). */
  error?: string;
  /** What happened to it, oldest first. */
  history: Array<{ at: string; event: string }>;
  /** The job process running it now (state `running`). */
  runner?: number;
  createdAt: string;
  updatedAt: string;
}

/** Ids are random UUIDs: nothing else may name a file here. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isJobId = (id: string): boolean => ID.test(id);

export function jobsDir(): string {
  const dir = process.env.JOBS_DIR ?? join(process.cwd(), 'jobs-data');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function saveJob(dir: string, job: Job): void {
  job.updatedAt = new Date().toISOString();
  const file = join(dir, `${job.id}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(job, null, 2));
  renameSync(temp, file);
}

/** Every job in the store, oldest first; temp files a killed writer left behind are removed. */
export function allJobs(dir: string): Job[] {
  const jobs: Job[] = [];
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
    else if (name.endsWith('.json')) jobs.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as Job);
  }
  return jobs.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The job as last persisted, or null if there is none by that id. */
export async function readJob(dir: string, id: string): Promise<Job | null> {
  if (!isJobId(id)) return null;
  try {
    return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as Job;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function note(job: Job, event: string): void {
  job.history.push({ at: new Date().toISOString(), event });
}
