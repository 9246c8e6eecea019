/**
 * Private redis-servers for a run (1 for `redis`, 3 for `redlock`) that can be paused, killed,
 * flushed and wiped, and told things over an admin connection (CLIENT PAUSE / KILL).
 *
 * The servers persist to an append-only file fsynced on every write, so a killed and restarted node
 * keeps its fencing counters: a restart without persistence resets them (a documented caveat of the
 * Redis adapter). `wipe` is that restart on purpose (redis-empty-restart): the data files are
 * deleted first.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '../test/helpers/redis-server.js';
import { type Backend, lacking, within } from './backend.js';

export async function startRedisBackend(count: number, workDir: string): Promise<Backend> {
  const servers: RedisServer[] = [];
  const dirs = Array.from({ length: count }, (_, i) => join(workDir, `redis-${i}`));
  try {
    for (const dir of dirs) {
      mkdirSync(dir);
      servers.push(await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]));
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const each = (nodes: readonly number[]) => nodes.map((i) => servers[i] as RedisServer);
  // ioredis reconnects them by itself after a node restarts.
  const admins = servers.map((s) => s.admin());
  return {
    ...lacking(count === 1 ? 'redis' : 'redlock'),
    where: servers.map((s) => s.url).join(','),
    nodes: count,
    pause: async (nodes) => {
      for (const s of each(nodes)) s.pause();
    },
    resume: (nodes) => {
      for (const s of each(nodes)) s.resume();
    },
    down: async (nodes) => {
      await Promise.all(each(nodes).map((s) => s.down()));
    },
    up: async (nodes) => {
      await Promise.all(each(nodes).map((s) => s.up()));
    },
    wipe: async (nodes) => {
      await Promise.all(each(nodes).map((s) => s.down()));
      for (const i of nodes) {
        // The append-only dir and any RDB snapshot: everything the node would load at start.
        rmSync(dirs[i] as string, { recursive: true, force: true });
        mkdirSync(dirs[i] as string);
      }
    },
    command: (node, name, ...args) => {
      const admin = admins[node];
      if (!admin) return Promise.reject(new Error(`no Redis node ${node}`));
      return within(2000, `node ${node} (${name})`, admin.call(name, ...args));
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
    pids: () => servers.map((s) => s.pid),
  };
}
