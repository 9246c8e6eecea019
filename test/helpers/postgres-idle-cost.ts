/**
 * What idle followers of one Postgres lock cost the server: one holder and N followers, each an
 * election on its own `postgresLock` (its own session, as separate processes would have), on a
 * private server that logs every statement (`log_statement = all`). Once the field has settled,
 * the statements logged over a window are counted: the lock's idle cost, in statements per second.
 *
 *   npx tsx test/helpers/postgres-idle-cost.ts 1,10,50,200 [seconds]
 */
import { postgresLock } from '../../adapters/postgres.js';
import { type Election, elect } from '../../src/elector.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';
import { pause, until } from './until.js';

/** Statements a server logged (simple protocol `statement:`, extended protocol `execute`). */
export function countStatements(log: string): number {
  return log.match(/LOG: {2}(statement|execute [^:]*):/g)?.length ?? 0;
}

export interface IdleCost {
  readonly followers: number;
  readonly seconds: number;
  readonly statements: number;
  readonly perSecond: number;
}

/** Starts 1 + `followers` elections of one lock on `server` (logging statements), waits `settle` ms, counts for `seconds`. */
export async function measureIdleCost(server: PostgresServer, followers: number, seconds: number, settle = 5000): Promise<IdleCost> {
  const name = `idle-${followers}-${Math.random().toString(36).slice(2)}`;
  const elections: Election[] = [];
  const start = () => {
    const election = elect({ name, lock: postgresLock({ connectionString: server.url }), handleSignals: false, logger: false });
    elections.push(election);
    return election;
  };
  try {
    await start().ready;
    await Promise.all(Array.from({ length: followers }, () => start().ready));
    await until(() => elections.filter((e) => e.isPrimary).length === 1, 10_000, 'one primary');
    await pause(settle);
    const before = countStatements(server.log());
    await pause(seconds * 1000);
    const statements = countStatements(server.log()) - before;
    if (elections.filter((e) => e.isPrimary).length !== 1) throw new Error('the field did not stay settled');
    return { followers, seconds, statements, perSecond: statements / seconds };
  } finally {
    await Promise.all(elections.map((e) => e.stop()));
  }
}

/** Starts a private server fit for `measureIdleCost` (room for 200+ sessions, every statement logged). */
export function startCountingServer(): Promise<PostgresServer> {
  return startPostgres({ log_statement: 'all', max_connections: 500 }, { log: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const counts = (process.argv[2] ?? '1,10,50,200').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 20);
  const server = await startCountingServer();
  try {
    for (const followers of counts) {
      const cost = await measureIdleCost(server, followers, seconds);
      process.stdout.write(`${JSON.stringify(cost)}\n`);
    }
  } finally {
    await server.stop();
  }
}
