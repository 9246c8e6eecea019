/**
 * The shared adapter suite on the machine's PostgreSQL (127.0.0.1:5432, database `test`), in a
 * table of this run's own and a namespace per test, so parallel runs never meet. Every adapter
 * connects through a TCP relay of its test, which `breakBackend` shuts: the server stays up for
 * everyone else.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { postgresLock } from '../../adapters/postgres.js';
import { describeLockAdapter } from '../conformance.js';
import { type Relay, SHARED_URL, startRelay } from '../helpers/postgres-server.js';

const table = `primacy_conformance_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const shared = new URL(SHARED_URL);

beforeAll(async () => {
  // Fails (never skips) when the machine's server is missing.
  const client = new pg.Client({ connectionString: SHARED_URL });
  await client.connect();
  await client.end();
});
afterAll(async () => {
  const client = new pg.Client({ connectionString: SHARED_URL });
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS "${table}"`);
  await client.end();
});

describeLockAdapter('postgres', async () => {
  const relay: Relay = await startRelay(Number(shared.port || 5432));
  const url = new URL(SHARED_URL);
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  const namespace = `conformance-${Math.random().toString(36).slice(2)}`;
  return {
    make: () => postgresLock({ connectionString: url.toString(), namespace, table, connectTimeout: 2000 }),
    breakBackend: () => relay.close(),
    cleanup: () => relay.close(),
  };
});
