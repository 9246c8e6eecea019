/**
 * A private Redis Cluster for tests: six redis-servers (`--cluster-enabled yes`, each with its own
 * directory and nodes.conf in a temporary directory) on free loopback ports, joined by
 * `redis-cli --cluster create ... --cluster-replicas 1`: three primaries, one replica each.
 * cluster-node-timeout is 1000 ms, so a dead primary's replica takes over in about 2 s. Also what
 * tests do to it: move a slot by hand (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE), fail a
 * primary over. A missing redis-server or redis-cli is a failure, never a skip.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import { type RedisServer, startRedis } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);
export const NODE_TIMEOUT_MS = 1000;

export interface ClusterNode {
  readonly server: RedisServer;
  /** CLUSTER MYID. */
  readonly id: string;
  /** A plain client of this node (no redirections followed), disconnected by `stop()`. */
  readonly admin: Redis;
}

export interface ClusterDeployment {
  readonly nodes: readonly ClusterNode[];
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  /** An ioredis Cluster client (errors swallowed), disconnected by `stop()`. */
  client(options?: ClusterOptions): Cluster;
  /** The slot `key` hashes to. */
  slotOf(key: string): Promise<number>;
  /** The live node serving `slot` as primary, once every live node agrees; and its replicas. */
  ownerOf(slot: number, within?: number): Promise<{ primary: ClusterNode; replicas: ClusterNode[] }>;
  /**
   * Moves `slot` from its primary to another primary, by hand, as `redis-cli --cluster reshard`
   * does: IMPORTING on the target, MIGRATING on the source, MIGRATE of every key in the slot, then
   * SETSLOT NODE everywhere. `whileMigrating` runs with the keys already on the target and the
   * slot still MIGRATING (the source answers ASK), so a test can hold that state.
   */
  moveSlot(slot: number, whileMigrating?: () => Promise<void>): Promise<{ from: ClusterNode; to: ClusterNode }>;
  /** Waits until every live node says cluster_state:ok and they agree who serves `slot`. */
  settled(slot?: number, within?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<ClusterDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'primacy-cluster-'));
  const servers: RedisServer[] = [];
  const clients: Array<Redis | Cluster> = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  let nodes: ClusterNode[];
  try {
    for (let i = 0; i < 6; i++) {
      const own = join(dir, `node-${i}`);
      await mkdir(own);
      const args = ['--dir', own, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      const tuning = ['--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--repl-diskless-sync-delay', '0'];
      servers.push(await startRedis([...args, ...tuning, '--repl-diskless-load', 'on-empty-db']));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']).catch((error) => {
      throw new Error(`redis-cli --cluster create failed (is redis-cli installed?): ${error.message}`);
    });
    nodes = await Promise.all(
      servers.map(async (server) => {
        const admin = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
        admin.on('error', () => undefined);
        clients.push(admin);
        return { server, admin, id: String(await admin.call('CLUSTER', 'MYID')) };
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const startupNodes = servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
  const live = () => nodes.filter((node) => node.server.pid !== undefined && isRunning(node.server.pid));
  const byId = (id: string) => nodes.find((node) => node.id === id);

  /** Each live node's view of who serves `slot` (the primary's id) and of every node's role. */
  const views = async (slot: number) =>
    Promise.all(
      live().map(async (node) => {
        const lines = String(await node.admin.call('CLUSTER', 'NODES'))
          .trim()
          .split('\n');
        const entries = lines.map((line) => line.split(' '));
        const owner = entries.find((e) => /master/.test(e[2] ?? '') && !/fail/.test(e[2] ?? '') && servesSlot(e.slice(8), slot));
        const replicas = entries.filter((e) => /slave/.test(e[2] ?? '') && !/fail/.test(e[2] ?? '') && e[3] === owner?.[0]);
        return { owner: owner?.[0], replicas: replicas.map((e) => e[0] as string) };
      }),
    );

  const otherPrimary = async (from: ClusterNode) => {
    for (const node of live()) {
      if (node !== from && ((await node.admin.call('ROLE')) as unknown[])[0] === 'master') return node;
    }
    throw new Error('no other primary to move the slot to');
  };

  const deployment: ClusterDeployment = {
    nodes,
    startupNodes,
    client(options = {}) {
      const client = new Cluster(startupNodes, options);
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async slotOf(key) {
      return Number(await (nodes[0] as ClusterNode).admin.call('CLUSTER', 'KEYSLOT', key));
    },
    async ownerOf(slot, within = 15_000) {
      const agreed = async () => {
        const seen = await views(slot);
        const owners = new Set(seen.map((view) => view.owner));
        const primary = owners.size === 1 ? byId(seen[0]?.owner ?? '') : undefined;
        return primary && live().includes(primary)
          ? { primary, replicas: (seen[0]?.replicas ?? []).map((id) => byId(id) as ClusterNode) }
          : null;
      };
      return until(agreed, within, `the live nodes agree on a live primary of slot ${slot}`);
    },
    async moveSlot(slot, whileMigrating) {
      const { primary: from } = await deployment.ownerOf(slot);
      const to = await otherPrimary(from);
      await to.admin.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
      await from.admin.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
      for (;;) {
        const keys = (await from.admin.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await from.admin.call('MIGRATE', '127.0.0.1', to.server.port, '', 0, 5000, 'KEYS', ...keys);
      }
      await whileMigrating?.();
      // The target first, so it never answers MOVED back to the source (as redis-cli does).
      await to.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      await from.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      // The other primaries too (replicas may not be told: they learn it from their primary).
      for (const node of live()) {
        if (node === to || node === from || ((await node.admin.call('ROLE')) as unknown[])[0] !== 'master') continue;
        await node.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
      }
      await deployment.settled(slot);
      return { from, to };
    },
    async settled(slot, within = 20_000) {
      let state = 'not looked at yet';
      const not = (why: string) => {
        state = why;
        return false;
      };
      await until(
        async () => {
          for (const node of live()) {
            const info = String(await node.admin.call('CLUSTER', 'INFO').catch(() => ''));
            if (!info.includes('cluster_state:ok')) return not(`:${node.server.port} is not cluster_state:ok`);
          }
          if (slot === undefined) return true;
          const owners = new Set((await views(slot)).map((view) => view.owner));
          if (owners.size !== 1 || owners.has(undefined)) return not(`the nodes disagree on slot ${slot}'s primary`);
          return true;
        },
        within,
        () => `the cluster settles (${state})`,
      );
    },
    stop,
  };
  await deployment.settled();
  return deployment;
}

/** Whether CLUSTER NODES' slot fields (`0-5460`, `[5461->-<id>]`) include `slot`. */
function servesSlot(fields: string[], slot: number): boolean {
  return fields.some((field) => {
    if (field.startsWith('[')) return false;
    const [low, high = low] = field.split('-').map(Number);
    return slot >= (low as number) && slot <= (high as number);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
