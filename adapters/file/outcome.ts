/**
 * `runOnce` outcomes of the file lock: `outcome.json` in the lock's directory, replaced atomically
 * (written aside, then renamed over). Written only while the writer's `<token>.held` is the current
 * state file, checked just before: a holder that lost the lock finds it claimed away and writes
 * nothing (the check and the rename are two steps; the elector's own deadline, checked by
 * `runOnce` before writing, covers the window between them).
 */
import { randomUUID } from 'node:crypto';
import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, RunOutcome } from '../../src/adapter.js';
import { fileSystemError, parseOutcome } from '../../src/adapter-kit.js';
import { readNoFollow, writeNewFile } from './files.js';
import { isStillOurs } from './lease.js';
import { scan } from './state.js';

const OUTCOME_FILE = 'outcome.json';
/** A failed run's error message is kept to this many characters, so that every outcome file stays readable (files.ts caps reads). */
const MAX_ERROR_CHARS = 16 * 1024;

export function writeOutcomeFile(dir: string, lease: Lease, outcome: RunOutcome): Promise<boolean> {
  return write(dir, lease, outcome).catch((error) => Promise.reject(fileSystemError('file', 'writeOutcome', dir, error)));
}

export function readOutcomeFile(dir: string): Promise<RunOutcome | null> {
  return read(dir).catch((error) => Promise.reject(fileSystemError('file', 'readOutcome', dir, error)));
}

async function write(dir: string, lease: Lease, outcome: RunOutcome): Promise<boolean> {
  const { current } = await scan(dir);
  if (current?.token !== lease.token || current.state !== 'held' || !(await isStillOurs(lease))) return false;
  const tmp = join(dir, `.tmp-${randomUUID()}`);
  try {
    const error = outcome.error && outcome.error.length > MAX_ERROR_CHARS ? `${outcome.error.slice(0, MAX_ERROR_CHARS)}…` : outcome.error;
    await writeNewFile(tmp, JSON.stringify({ ...outcome, error }));
    await rename(tmp, join(dir, OUTCOME_FILE));
    return true;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function read(dir: string): Promise<RunOutcome | null> {
  let text: string;
  try {
    text = await readNoFollow(join(dir, OUTCOME_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return parseOutcome(text);
}
