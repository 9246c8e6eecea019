/**
 * The "advisory-lock leader" loop users write with pg: one `pg.Client` whose session holds the lock.
 * While a follower, `SELECT pg_try_advisory_lock(hashtext($1))` every `poll` ms; once it answers
 * true we lead for as long as the session lives (the server frees a session lock when the
 * connection ends, so a crashed leader's lock is free as soon as the server sees the connection
 * close, and the next poll takes it). The leader steps down if its connection errors or ends
 * (`lost`). SIGTERM: stop acting as leader, `pg_advisory_unlock`, end the connection, exit.
 * argv: <lock name> <postgres url> <poll ms>.
 */
import pg from 'pg';
import { emit } from './emit.js';

const [name, url, pollArg] = process.argv.slice(2);
const poll = Number(pollArg);
if (!name || !url || !poll) throw new Error('usage: pg-advisory-loop.ts <lock name> <postgres url> <poll ms>');

const client = new pg.Client({ connectionString: url });
let leading = false;
let attempting = false;
let stopping = false;

function lose(why: string): void {
  if (!leading) return;
  leading = false;
  emit('lost', why);
}

client.on('error', (error) => {
  lose(`connection error: ${error.message}`);
  if (!stopping) emit('error', `pg: ${error.message}`);
});
client.on('end', () => lose('connection ended'));

async function attempt(): Promise<void> {
  attempting = true;
  try {
    const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS got', [name]);
    if (rows[0]?.got && !stopping) {
      leading = true;
      emit('acquired');
    }
  } catch (error) {
    if (!stopping) emit('error', (error as Error).message);
  } finally {
    attempting = false;
  }
}

process.on('SIGTERM', async () => {
  stopping = true;
  if (leading) {
    leading = false;
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
    try {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  await client.end().catch(() => undefined);
  process.exit(0);
});

await client.connect();
await attempt();
emit('ready');
setInterval(() => {
  if (!leading && !attempting && !stopping) void attempt();
}, poll);
