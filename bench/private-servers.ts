/**
 * The private servers of the PostgreSQL, MySQL/MariaDB, etcd and idle-cost parts of the bench, on
 * free loopback ports (the test helpers start them): never the machine's shared ones, so a bench
 * run neither disturbs nor is disturbed by anything else. Every server started here is listed until
 * stopped, so the bench stops them all at the end whatever happens (`stopPrivateServers`), and a
 * signal handler can SIGKILL them synchronously (`killPrivateServersNow`).
 */
import { execFileSync } from 'node:child_process';
import { type EtcdServer, startEtcd } from '../test/helpers/etcd-server.js';
import { type MariadbServer, startMariadb } from '../test/helpers/mariadb-server.js';
import { type PostgresServer, startPostgres } from '../test/helpers/postgres-server.js';
import { type RedisServer, startRedis } from '../test/helpers/redis-server.js';

interface Started {
  pids(): number[];
  stop(): Promise<void>;
}

const started = new Set<Started>();

function track<T extends Started>(server: T): T {
  const stop = server.stop.bind(server);
  const entry: Started = { pids: () => server.pids(), stop: () => stop() };
  started.add(entry);
  return Object.assign(server, {
    stop: async () => {
      started.delete(entry);
      await stop();
    },
  });
}

const childPids = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)])
      .toString()
      .split(/\s+/)
      .map(Number)
      .filter((n) => n > 0);
  } catch {
    return [];
  }
};

export type BenchRedis = RedisServer & Started;
export type BenchPostgres = PostgresServer & Started;
export type BenchMariadb = MariadbServer & Started;
export type BenchEtcd = EtcdServer & Started;

export async function benchRedis(): Promise<BenchRedis> {
  const server = await startRedis();
  return track(Object.assign(server, { pids: () => [server.pid] }));
}

/**
 * `counting`: every statement logged (`log_statement = all`), each line prefixed with its epoch
 * time and application name (`%n|%a|`), kept in memory for the idle count.
 */
export async function benchPostgres(counting = false): Promise<BenchPostgres> {
  const settings: Record<string, string | number> = counting
    ? { log_statement: 'all', log_line_prefix: '%n|%a|', max_connections: 500 }
    : { max_connections: 100 };
  const server = await startPostgres(settings, { log: counting });
  // The postmaster and its backends: a backend of a SIGKILLed postmaster may linger until it notices.
  return track(Object.assign(server, { pids: () => [server.pid, ...childPids(server.pid)] }));
}

/** `--userstat`: per-user statement counts in information_schema.USER_STATISTICS (the holder's own share). */
export async function benchMariadb(): Promise<BenchMariadb> {
  const server = await startMariadb({ args: ['--userstat=1'] });
  return track(Object.assign(server, { pids: () => [server.pid] }));
}

export async function benchEtcd(): Promise<BenchEtcd> {
  const server = await startEtcd();
  return track(Object.assign(server, { pids: () => server.members.map((m) => m.pid).filter((pid) => pid > 0) }));
}

/** Stops every server still running (and removes its data). */
export async function stopPrivateServers(): Promise<void> {
  await Promise.all([...started].map((server) => server.stop().catch(() => undefined)));
  started.clear();
}

/** SIGKILLs every server still running, synchronously, for a signal handler (their temp dirs stay). */
export function killPrivateServersNow(): void {
  for (const server of started) {
    for (const pid of server.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  started.clear();
}
