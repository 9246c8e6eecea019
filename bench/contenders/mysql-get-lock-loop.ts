/**
 * The GET_LOCK leader loop users write with mysql2: one connection whose session holds a named
 * lock. While a follower, `SELECT GET_LOCK(?, 0)` every `poll` ms; once it answers 1 we lead for as
 * long as the session lives (the server frees the lock when the connection ends, so a crashed
 * leader's lock is free as soon as the server sees the connection close, and the next poll takes
 * it). The leader steps down if its connection errors (`lost`). SIGTERM: stop acting as
 * leader, `RELEASE_LOCK`, end the connection, exit.
 * argv: <lock name> <mysql uri> <poll ms>.
 */
import mysql from 'mysql2/promise';
import { emit } from './emit.js';

const [name, uri, pollArg] = process.argv.slice(2);
const poll = Number(pollArg);
if (!name || !uri || !poll) throw new Error('usage: mysql-get-lock-loop.ts <lock name> <mysql uri> <poll ms>');

const connection = await mysql.createConnection(uri);
let leading = false;
let attempting = false;
let stopping = false;

function lose(why: string): void {
  if (!leading) return;
  leading = false;
  emit('lost', why);
}

// mysql2 reports a broken or closed connection as an 'error' event on it.
connection.on('error', (error: Error) => {
  lose(`connection error: ${error.message}`);
  if (!stopping) emit('error', `mysql2: ${error.message}`);
});

async function attempt(): Promise<void> {
  attempting = true;
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name]);
    if (rows[0]?.got === 1 && !stopping) {
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
      await connection.query('SELECT RELEASE_LOCK(?)', [name]);
    } catch (error) {
      emit('error', `release: ${(error as Error).message}`);
    }
  }
  await connection.end().catch(() => undefined);
  process.exit(0);
});

await attempt();
emit('ready');
setInterval(() => {
  if (!leading && !attempting && !stopping) void attempt();
}, poll);
