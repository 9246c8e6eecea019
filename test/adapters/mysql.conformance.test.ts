/**
 * The shared conformance suite on the machine's MariaDB, through a TCP proxy so that
 * `breakBackend` can cut every connection of the instances made before (the server itself is
 * shared with other tests and is never touched). Each run uses its own table and prefix, half the
 * instances made from a mysql2 pool, half from a URI.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll } from 'vitest';
import { mysqlLock } from '../../adapters/mysql.js';
import { describeLockAdapter } from '../conformance.js';
import { checkSharedMariadb, SHARED_URI, startProxy, type TcpProxy } from '../helpers/mariadb-server.js';

const run = Math.random().toString(36).slice(2, 10);
const table = `primacy_conformance_${run}`;

let admin: mysql.Connection;
beforeAll(async () => {
  await checkSharedMariadb();
  admin = await mysql.createConnection(SHARED_URI);
});
afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
  await admin.end();
});

describeLockAdapter('mysql', async () => {
  const proxy: TcpProxy = await startProxy(3306);
  const uri = `mysql://root@127.0.0.1:${proxy.port}/test`;
  const pools: mysql.Pool[] = [];
  const prefix = `conf-${Math.random().toString(36).slice(2, 8)}:`;
  let made = 0;
  return {
    make: () => {
      const timeout = 3000;
      if (made++ % 2 === 0) return mysqlLock({ uri, table, prefix, timeout });
      const pool = mysql.createPool({ uri, connectionLimit: 2 });
      pools.push(pool);
      return mysqlLock({ pool, table, prefix, timeout });
    },
    breakBackend: () => proxy.close(),
    cleanup: async () => {
      await proxy.close();
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    },
  };
});
