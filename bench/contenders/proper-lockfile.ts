/**
 * A leader loop on proper-lockfile the way users write it: try `lock()` (no retries) every `poll`
 * ms; once it succeeds we are the leader until `onCompromised` says otherwise; on SIGTERM release
 * and exit. argv: <lock file> <stale ms> <update ms> <poll ms>.
 */
import lockfile from 'proper-lockfile';
import { emit } from './emit.js';

const [file, ...numbers] = process.argv.slice(2);
const [stale, update, poll] = numbers.map(Number);
if (!file || !stale || !update || !poll) throw new Error('usage: proper-lockfile.ts <lock file> <stale> <update> <poll>');

let release: (() => Promise<void>) | null = null;
let attempting = false;

async function attempt(): Promise<void> {
  attempting = true;
  try {
    const unlock = await lockfile.lock(file as string, {
      stale,
      update,
      retries: 0,
      realpath: false,
      onCompromised(error) {
        // The lock was taken over (or its mtime could not be updated): stop acting as leader.
        release = null;
        emit('lost', error.message);
      },
    });
    release = unlock;
    emit('acquired');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'ELOCKED') emit('error', `${code ?? ''} ${message}`);
  } finally {
    attempting = false;
  }
}

process.on('SIGTERM', async () => {
  const unlock = release;
  release = null;
  if (unlock) {
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
    try {
      await unlock();
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  process.exit(0);
});

await attempt();
emit('ready');
setInterval(() => {
  if (release === null && !attempting) void attempt();
}, poll);
