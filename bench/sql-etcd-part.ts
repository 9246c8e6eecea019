/**
 * Failover and hand-over of primacy's PostgreSQL, MySQL/MariaDB and etcd adapters, each beside the
 * closest thing a user would write without primacy, measured in the same run and the same way as
 * the file and Redis parts (bench/failover.ts): a `pg` advisory-lock leader loop, a mysql2
 * GET_LOCK leader loop, and etcd3's own `Election`. Each backend on a private server this module
 * starts (test/helpers) and stops once its kinds are measured, and in any case at the end.
 */
import { fileURLToPath } from 'node:url';
import { type ContenderRun, type Kind, measureKind } from './failover.js';
import { benchEtcd, benchMariadb, benchPostgres, stopPrivateServers } from './private-servers.js';

export type SqlEtcdBackend = 'postgres' | 'mysql' | 'etcd';

export const SQL_ETCD_GROUPS: Record<SqlEtcdBackend, readonly string[]> = {
  postgres: ['primacy-postgres', 'pg-advisory-loop'],
  mysql: ['primacy-mysql', 'mysql-get-lock-loop'],
  etcd: ['primacy-etcd', 'etcd3-election'],
};
export const SQL_ETCD_IDS: readonly string[] = Object.values(SQL_ETCD_GROUPS).flat();

/** How often the hand-written loops try, ms: the "poll every second" they are usually written with. */
export const LOOP_POLL = 1000;
/**
 * The TTL of both etcd contenders, ms: primacy's `ttl` and the etcd3 Election's lease (3 s). Both
 * fail over after a crash once the holder's lease has run out, so this bounds either; shorter than
 * primacy's default 10 s only to keep the 40 SIGKILL rounds near 2 minutes (etcd's own minimum
 * lease is 2 s with its default timing).
 */
export const ETCD_TTL = 3000;

export interface SqlEtcdRun extends ContenderRun {
  backend: SqlEtcdBackend;
}

export interface SqlEtcdPartResult {
  /** Per backend, primacy first, then its peer (when selected). */
  runs: SqlEtcdRun[];
  loopPollMs: number;
  etcdTtlMs: number;
}

const contenderScript = (file: string) => fileURLToPath(new URL(`./contenders/${file}`, import.meta.url));

function kindsFor(backend: SqlEtcdBackend, url: string): Kind[] {
  const primacy = (settings: string, ttl?: number): Kind => ({
    id: `primacy-${backend}`,
    label: `primacy ${backend}`,
    settings,
    spec: (_dir, phase) => ({
      script: contenderScript('primacy-backend.ts'),
      args: [backend, phase, url, ...(ttl ? [String(ttl)] : [])],
    }),
    patienceMs: 45_000,
  });
  const loop = (id: string, label: string, script: string): Kind => ({
    id,
    label,
    settings: `poll ${LOOP_POLL} ms, no TTL (session-bound)`,
    spec: (_dir, phase) => ({ script: contenderScript(script), args: [phase, url, String(LOOP_POLL)] }),
    patienceMs: 30_000,
  });
  switch (backend) {
    case 'postgres':
      return [
        primacy('defaults: ttl 10000, retry 1000 ms, liveness check 200 ms'),
        loop('pg-advisory-loop', 'pg advisory-lock loop', 'pg-advisory-loop.ts'),
      ];
    case 'mysql':
      return [
        primacy('defaults: ttl 10000, retry 1000 ms, takeover grace 50 ms'),
        loop('mysql-get-lock-loop', 'mysql2 GET_LOCK loop', 'mysql-get-lock-loop.ts'),
      ];
    case 'etcd':
      return [
        primacy(`ttl ${ETCD_TTL}, otherwise defaults: retry 1000 ms`, ETCD_TTL),
        {
          id: 'etcd3-election',
          label: 'etcd3 Election',
          settings: `election(name, ${ETCD_TTL / 1000} s).campaign(id)`,
          spec: (_dir, phase) => ({ script: contenderScript('etcd3-election.ts'), args: [phase, url, String(ETCD_TTL / 1000)] }),
          patienceMs: 3 * ETCD_TTL + 15_000,
        },
      ];
  }
}

async function serverFor(backend: SqlEtcdBackend): Promise<{ url: string; stop: () => Promise<void> }> {
  switch (backend) {
    case 'postgres': {
      const server = await benchPostgres();
      return { url: server.url, stop: () => server.stop() };
    }
    case 'mysql': {
      const server = await benchMariadb();
      return { url: server.uri, stop: () => server.stop() };
    }
    case 'etcd': {
      const server = await benchEtcd();
      return { url: server.urls[0] as string, stop: () => server.stop() };
    }
  }
}

export async function runSqlEtcdPart(options: {
  dir: string;
  rounds: number;
  contenders: number;
  selected: (id: string) => boolean;
  log: (line: string) => void;
}): Promise<SqlEtcdPartResult> {
  const { dir, rounds, contenders, selected, log } = options;
  const runs: SqlEtcdRun[] = [];
  try {
    for (const backend of Object.keys(SQL_ETCD_GROUPS) as SqlEtcdBackend[]) {
      if (!SQL_ETCD_GROUPS[backend].some(selected)) continue;
      const server = await serverFor(backend);
      log(`${backend}: private server at ${server.url}`);
      try {
        for (const kind of kindsFor(backend, server.url).filter((k) => selected(k.id))) {
          runs.push({ ...(await measureKind(kind, dir, { rounds, contenders, log })), backend });
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await stopPrivateServers();
  }
  return { runs, loopPollMs: LOOP_POLL, etcdTtlMs: ETCD_TTL };
}
