/**
 * For the idle cost per lock (bench/idle-per-lock.ts): each network backend on private servers of
 * its own, how the holder and the followers reach it, and how its work is counted. The holder
 * reaches the server so that its share can be told apart: Redis through its process's connections
 * (/proc), PostgreSQL by its session's application name, MariaDB by its user, etcd through a
 * counting relay.
 */
import type { NetworkBackend } from './backend-locks.js';
import type { IdleCounter } from './counters/count.js';
import { etcdCounter } from './counters/etcd.js';
import { startCountingProxy } from './counters/h2-proxy.js';
import { createBenchUsers, FOLLOWER_USER, HOLDER_USER, mariadbCounter } from './counters/mariadb.js';
import { FOLLOWER_APPLICATION, HOLDER_APPLICATION, postgresCounter } from './counters/postgres.js';
import { redisCounter } from './counters/redis.js';
import { type BenchRedis, benchEtcd, benchMariadb, benchPostgres, benchRedis } from './private-servers.js';

export interface IdleRig {
  /** What is counted, per second: "commands", "statements"... */
  unit: string;
  /** Independent servers the lock lives on (Redlock: 3), counted together. */
  nodes: number;
  /** The holder's and the followers' adapter target (bench/backend-locks.ts). */
  holderTarget: string;
  followerTarget: string;
  counter(holderPid: () => number): IdleCounter;
  /** Stops the servers (and relays) of this rig. */
  stop(): Promise<void>;
}

export const UNITS: Record<NetworkBackend, string> = {
  redis: 'commands',
  redlock: 'commands',
  postgres: 'statements',
  mysql: 'statements',
  etcd: 'requests',
};

export async function startRig(backend: NetworkBackend): Promise<IdleRig> {
  const unit = UNITS[backend];
  switch (backend) {
    case 'redis':
    case 'redlock': {
      const servers: BenchRedis[] = [];
      try {
        for (let i = 0; i < (backend === 'redis' ? 1 : 3); i++) servers.push(await benchRedis());
      } catch (error) {
        await Promise.all(servers.map((s) => s.stop()));
        throw error;
      }
      const target = servers.map((s) => s.url).join(',');
      return {
        unit,
        nodes: servers.length,
        holderTarget: target,
        followerTarget: target,
        counter: (holderPid) => redisCounter(servers, holderPid),
        stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
      };
    }
    case 'postgres': {
      const server = await benchPostgres(true);
      return {
        unit,
        nodes: 1,
        holderTarget: `${server.url}?application_name=${HOLDER_APPLICATION}`,
        followerTarget: `${server.url}?application_name=${FOLLOWER_APPLICATION}`,
        counter: () => postgresCounter(() => server.log()),
        stop: () => server.stop(),
      };
    }
    case 'mysql': {
      const server = await benchMariadb();
      try {
        const admin = await server.admin();
        await createBenchUsers(admin);
        const at = `127.0.0.1:${server.port}/test`;
        return {
          unit,
          nodes: 1,
          holderTarget: `mysql://${HOLDER_USER}@${at}`,
          followerTarget: `mysql://${FOLLOWER_USER}@${at}`,
          counter: () => mariadbCounter(admin),
          stop: () => server.stop(),
        };
      } catch (error) {
        await server.stop();
        throw error;
      }
    }
    case 'etcd': {
      const server = await benchEtcd();
      const url = server.urls[0] as string;
      const relay = await startCountingProxy(url).catch(async (error: unknown) => {
        await server.stop();
        throw error;
      });
      return {
        unit,
        nodes: 1,
        holderTarget: relay.url,
        followerTarget: url,
        counter: () => etcdCounter(url, relay),
        stop: async () => {
          await relay.close();
          await server.stop();
        },
      };
    }
  }
}
