/**
 * Where the lock lives during a run, and the faults done to it: a fresh lock directory, or private
 * redis-servers (1 for `redis`, 3 for `redlock`) that can be paused, killed, flushed and wiped, and
 * told things over an admin connection (CLIENT PAUSE / KILL). A missing redis-server is an error,
 * never a skip.
 *
 * The servers persist to an append-only file fsynced on every write, so a killed and restarted node
 * keeps its fencing counters: a restart without persistence resets them (a documented caveat of the
 * Redis adapter), after which every new token would be below the store's and every write rejected.
 * `wipe` is that restart on purpose (redis-empty-restart): the data files are deleted first.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '../test/helpers/redis-server.js';
import type { Adapter } from './faults.js';

export interface Backend {
  /** What a candidate needs to reach the lock: a directory, a URL, or comma-separated URLs ('' for the manager). */
  readonly where: string;
  /** Redis nodes (0 for file and manager). */
  readonly nodes: number;
  pause(nodes: readonly number[]): void;
  resume(nodes: readonly number[]): void;
  /** SIGKILL these nodes. */
  down(nodes: readonly number[]): Promise<void>;
  /** Start them again on the same ports, from their append-only files. */
  up(nodes: readonly number[]): Promise<void>;
  /** SIGKILL these nodes and delete their data files: `up` then starts them empty. */
  wipe(nodes: readonly number[]): Promise<void>;
  /** A command on a node's admin connection (not a candidate's), answered within 2 s or rejected. */
  command(node: number, name: string, ...args: Array<string | number>): Promise<unknown>;
  close(): Promise<void>;
  /** The servers' pids, for a last-resort SIGKILL if the orchestrator exits abruptly. */
  pids(): number[];
}

export async function startBackend(adapter: Adapter, workDir: string): Promise<Backend> {
  const count = adapter === 'redis' ? 1 : adapter === 'redlock' ? 3 : 0;
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
  const lockDir = join(workDir, 'locks');
  if (adapter === 'file') mkdirSync(lockDir);
  return {
    where: adapter === 'file' ? lockDir : servers.map((s) => s.url).join(','),
    nodes: count,
    pause: (nodes) => {
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
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`node ${node} did not answer ${name} within 2000 ms`)), 2000);
      });
      return Promise.race([admin.call(name, ...args), timeout]).finally(() => clearTimeout(timer));
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
    pids: () => servers.map((s) => s.pid),
  };
}
