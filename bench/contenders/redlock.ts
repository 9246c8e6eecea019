/**
 * A leader loop on redlock 5.0.0-beta.2 with its default retry settings (retryCount 10, retryDelay
 * 200 ms, retryJitter ±100 ms): while a follower, `await redlock.acquire([key], ttl)` again and again
 * (each call tries up to 11 times over ~2.2 s, then throws ExecutionError, the "it is held" answer);
 * once it resolves we are the leader and `lock = await lock.extend(ttl)` every ttl/3 ms until an
 * extension throws (`lost`); on SIGTERM stop acting as leader, `lock.release()`, exit. Every error
 * is caught: the loop never crashes. Known issues are reported as `error` events so the bench counts
 * them: an extension refused with "Cannot extend an already-expired lock" (redlock#283), and an
 * acquire that resolves with a lock already past its expiration (redlock#296).
 * argv: <key> <ttl ms> <redis url>,<redis url>,... (one client per independent node).
 */
import { Redis } from 'ioredis';
import Redlock, { type Lock, ResourceLockedError } from 'redlock';
import { emit } from './emit.js';

const [key, ttlArg, urls] = process.argv.slice(2);
const ttl = Number(ttlArg);
if (!key || !ttl || !urls) throw new Error('usage: redlock.ts <key> <ttl ms> <url,url,...>');

const clients = urls.split(',').map((url) => {
  const client = new Redis(url);
  client.on('error', (error: Error) => emit('error', `ioredis: ${error.message}`));
  return client;
});
const redlock = new Redlock(clients);
// ResourceLockedError is every failed attempt on a held lock: the normal answer, not an error.
redlock.on('error', (error: Error) => {
  if (!(error instanceof ResourceLockedError)) emit('error', `redlock: ${error.message}`);
});

let lock: Lock | null = null;
let renewTimer: NodeJS.Timeout | undefined;
let stopping = false;

async function campaign(): Promise<void> {
  while (!stopping) {
    let acquired: Lock;
    try {
      acquired = await redlock.acquire([key as string], ttl);
    } catch (error) {
      // ExecutionError after the retry window: still held by someone else. Try again.
      if ((error as Error).name !== 'ExecutionError') emit('error', `acquire: ${(error as Error).message}`);
      continue;
    }
    if (stopping) {
      await acquired.release().catch(() => undefined);
      return;
    }
    if (acquired.expiration <= Date.now()) {
      emit('error', 'redlock#296: acquire() resolved with an already-expired lock');
      continue;
    }
    lock = acquired;
    emit('acquired');
    renewTimer = setInterval(() => void extend(), Math.round(ttl / 3));
    return;
  }
}

async function extend(): Promise<void> {
  const current = lock;
  if (!current) return;
  try {
    const extended = await current.extend(ttl);
    if (lock === current) lock = extended;
  } catch (error) {
    if (lock !== current) return;
    lock = null;
    clearInterval(renewTimer);
    const message = (error as Error).message;
    emit('lost', message);
    if (/already-expired/.test(message)) emit('error', `redlock#283: extend(): ${message}`);
    void campaign();
  }
}

process.on('SIGTERM', async () => {
  stopping = true;
  const held = lock;
  lock = null;
  clearInterval(renewTimer);
  if (held) {
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
    try {
      await held.release();
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  process.exit(0);
});

// Connected first, so `ready` means the first acquire() is on its way to the servers.
await Promise.all(clients.map((c) => (c.status === 'ready' ? undefined : new Promise((resolve) => c.once('ready', resolve)))));
void campaign();
emit('ready');
