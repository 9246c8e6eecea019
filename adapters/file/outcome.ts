/**
 * Outcomes of the file lock (`runOnce`, node-cron's claim records): `outcome.<token>.json` in the
 * lock's directory, one file per writer's lease token, each written aside and then renamed into
 * place; a reader takes the highest token's. Written only while the writer's `<token>.held` is the
 * current state file, checked just before. The check and the rename are two steps: a writer paused
 * between them past its lease publishes late, but under its own, older token, so it can never
 * replace what a later holder wrote (one `outcome.json` renamed over did: a paused claimer erased
 * the next holder's claim, and a late instance ran that firing again). Older files are pruned by
 * each write; an `outcome.json` of an earlier version is read while no token file exists.
 */
import { randomUUID } from 'node:crypto';
import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease, RunOutcome } from '../../src/adapter.js';
import { fileSystemError, parseOutcome } from '../../src/adapter-kit.js';
import { readNoFollow, writeNewFile } from './files.js';
import { isStillOurs } from './lease.js';
import { scan } from './state.js';

const LEGACY_FILE = 'outcome.json';
const OUTCOME_FILE = /^outcome\.(\d+)\.json$/;
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
    await rename(tmp, join(dir, `outcome.${lease.token}.json`));
    await pruneOutcomes(dir, lease.token);
    return true;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function read(dir: string): Promise<RunOutcome | null> {
  // A newer writer may prune the file between the listing and the read: list again.
  for (let attempt = 0; ; attempt++) {
    const [newest] = (await outcomeFiles(dir)).sort((a, b) => b.token - a.token);
    let text: string;
    try {
      text = await readNoFollow(join(dir, newest?.file ?? LEGACY_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (newest === undefined) return null;
      if (attempt < 3) continue;
      throw error;
    }
    return parseOutcome(text);
  }
}

async function outcomeFiles(dir: string): Promise<Array<{ file: string; token: number }>> {
  const found = [];
  // No lock directory yet: nothing was ever written (the read below then finds no file either).
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  for (const file of names) {
    const token = Number(OUTCOME_FILE.exec(file)?.[1]);
    if (Number.isSafeInteger(token)) found.push({ file, token });
  }
  return found;
}

/** Removes the outcomes older than `token`'s (and an earlier version's `outcome.json`): a reader takes the newest anyway. */
async function pruneOutcomes(dir: string, token: number): Promise<void> {
  const older = (await outcomeFiles(dir)).filter((outcome) => outcome.token < token).map((outcome) => outcome.file);
  await Promise.all([...older, LEGACY_FILE].map((file) => unlink(join(dir, file)).catch(() => undefined)));
}
