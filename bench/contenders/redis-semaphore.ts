/**
 * A leader loop on redis-semaphore 5.8.0's Mutex with its defaults (lockTimeout = the ttl argument;
 * acquireTimeout 10 s, retryInterval 10 ms, refreshInterval 0.8 × lockTimeout): while a follower,
 * `await mutex.acquire()` again and again (each call tries `SET NX PX` every 10 ms for up to 10 s,
 * then throws TimeoutError, the "it is held" answer); once it resolves we are the leader, and the
 * Mutex refreshes itself; `onLockLost` reports `lost` (the default would throw an unhandled
 * LostLockError) and campaigns again; on SIGTERM stop acting as leader, `mutex.release()`, exit.
 * argv: <key> <ttl ms> <redis url>.
 */
import { Redis } from 'ioredis';
import { Mutex, TimeoutError } from 'redis-semaphore';
import { emit } from './emit.js';

const [key, ttlArg, url] = process.argv.slice(2);
const ttl = Number(ttlArg);
if (!key || !ttl || !url) throw new Error('usage: redis-semaphore.ts <key> <ttl ms> <redis url>');

const client = new Redis(url);
client.on('error', (error: Error) => emit('error', `ioredis: ${error.message}`));
let stopping = false;
const mutex = new Mutex(client, key, {
  lockTimeout: ttl,
  onLockLost(error) {
    emit('lost', error.message);
    void campaign();
  },
});

async function campaign(): Promise<void> {
  while (!stopping) {
    try {
      await mutex.acquire();
    } catch (error) {
      if (!(error instanceof TimeoutError)) emit('error', `acquire: ${(error as Error).message}`);
      continue;
    }
    if (stopping) return;
    emit('acquired');
    return;
  }
}

process.on('SIGTERM', async () => {
  stopping = true;
  if (mutex.isAcquired) {
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
    try {
      await mutex.release();
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  process.exit(0);
});

// Connected first, so `ready` means the first acquire() is on its way to the server.
if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
void campaign();
emit('ready');
