/**
 * Where the lock lives during a run, and the faults done to it: a fresh lock directory, or private
 * redis-servers (1 for `redis`, 3 for `redlock`) that can be paused and killed. A missing
 * redis-server is an error, never a skip.
 *
 * The servers persist to an append-only file fsynced on every write, so a killed and restarted node
 * keeps its fencing counters: a restart without persistence resets them (a documented caveat of the
 * Redis adapter), after which every new token would be below the store's and every write rejected.
 */
import { mkdirSync } from 'node:fs';
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
  close(): Promise<void>;
  /** The servers' pids, for a last-resort SIGKILL if the orchestrator exits abruptly. */
  pids(): number[];
}

export async function startBackend(adapter: Adapter, workDir: string): Promise<Backend> {
  const count = adapter === 'redis' ? 1 : adapter === 'redlock' ? 3 : 0;
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const dir = join(workDir, `redis-${i}`);
      mkdirSync(dir);
      servers.push(await startRedis(['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]));
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const each = (nodes: readonly number[]) => nodes.map((i) => servers[i] as RedisServer);
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
    close: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
    pids: () => servers.map((s) => s.pid),
  };
}
