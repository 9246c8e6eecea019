/**
 * A leader loop on plain ioredis the way users write it (see bench/raw-ioredis.ts): while a
 * follower, `SET key token NX PX ttl` every `poll` ms; once it answers OK we are the leader and
 * renew with compare-and-PEXPIRE every ttl/3 ms until a renewal answers 0 or fails (`lost`); on
 * SIGTERM stop acting as leader, compare-and-DEL, exit. argv: <key> <redis url> <ttl ms> <poll ms>.
 */
import { randomUUID } from 'node:crypto';
import { rawLockClient, trySet } from '../raw-ioredis.js';
import { emit } from './emit.js';

const [key, url, ...numbers] = process.argv.slice(2);
const [ttl, poll] = numbers.map(Number);
if (!key || !url || !ttl || !poll) throw new Error('usage: ioredis.ts <key> <redis url> <ttl ms> <poll ms>');

const client = rawLockClient(url, (error) => emit('error', `ioredis: ${error.message}`));
const token = randomUUID();
let leading = false;
let attempting = false;
let renewTimer: NodeJS.Timeout | undefined;

function lose(why: string): void {
  if (!leading) return;
  leading = false;
  clearInterval(renewTimer);
  emit('lost', why);
}

async function renew(): Promise<void> {
  try {
    if ((await client.renewIfOwner(key as string, token, ttl as number)) !== 1) lose('renewal answered 0');
  } catch (error) {
    lose(`renewal failed: ${(error as Error).message}`);
  }
}

async function attempt(): Promise<void> {
  attempting = true;
  try {
    if (await trySet(client, key as string, token, ttl as number)) {
      leading = true;
      emit('acquired');
      renewTimer = setInterval(() => void renew(), Math.round((ttl as number) / 3));
    }
  } catch (error) {
    emit('error', (error as Error).message);
  } finally {
    attempting = false;
  }
}

process.on('SIGTERM', async () => {
  if (leading) {
    leading = false;
    clearInterval(renewTimer);
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
    try {
      await client.deleteIfOwner(key, token);
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  process.exit(0);
});

await attempt();
emit('ready');
setInterval(() => {
  if (!leading && !attempting) void attempt();
}, poll);
