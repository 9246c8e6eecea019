/**
 * A private Redis Sentinel deployment for tests: one primary and two replicas (`--replicaof`), each
 * a redis-server on a free loopback port (test/helpers/redis-server.ts), watched by three Sentinels
 * (`redis-server <conf> --sentinel`, quorum 2) whose configurations live in a temporary directory.
 * down-after-milliseconds and failover-timeout are small, so a failover takes two to three seconds.
 * A missing redis-server is a failure, never a skip. `stop()` kills everything and removes the
 * directory, whatever state a failed test left it in. SENTINEL_LOG=1 copies the Sentinels' logs
 * (+sdown, +switch-master...) to stderr, to see what they did in a failing run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';
import { type RedisServer, startRedis } from './redis-server.js';
import { until } from './until.js';

/** The name the Sentinels monitor the primary under. */
const MASTER = 'primacy-test';
/**
 * How long the Sentinels wait before they call an unanswering primary down (800 ms flapped on a
 * busy machine: a primary just promoted was called down and failed over again).
 */
const DOWN_AFTER_MS = 1500;
const FAILOVER_TIMEOUT_MS = 3000;

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface SentinelDeployment {
  /** The master name the Sentinels monitor (ioredis's `name`). */
  readonly name: string;
  readonly sentinels: readonly Address[];
  /** The data nodes; the first started as the primary. */
  readonly nodes: readonly RedisServer[];
  /** A Sentinel-backed ioredis client (errors swallowed), disconnected by `stop()`. */
  client(options?: RedisOptions): Redis;
  /** A plain client of one data node, for bookkeeping (INFO, DEBUG, CONFIG); disconnected by `stop()`. */
  admin(node: RedisServer): Redis;
  /** The data node every Sentinel names as the primary, once they agree and it answers as one. */
  primary(within?: number): Promise<RedisServer>;
  /** Waits until the Sentinels agree on a primary other than `old` and it serves; returns it. */
  primaryOtherThan(old: RedisServer, within?: number): Promise<RedisServer>;
  /** SENTINEL FAILOVER (no agreement needed, the primary stays up), then `primaryOtherThan`. */
  failover(): Promise<RedisServer>;
  /**
   * Starts `node` again after `down()` (empty) as a replica of the current primary: the Sentinels
   * would point it there themselves, but only at their next look (up to 10 s).
   */
  revive(node: RedisServer): Promise<void>;
  /**
   * Waits until the deployment is whole again: one agreed primary with both replicas online (in
   * sync) and known to every Sentinel as up, and every Sentinel knowing the other two.
   */
  settled(within?: number): Promise<RedisServer>;
  stop(): Promise<void>;
}

export async function startSentinels(): Promise<SentinelDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'primacy-sentinel-'));
  const nodes: RedisServer[] = [];
  const sentinels: ChildProcess[] = [];
  const clients: Redis[] = [];
  const addresses: Address[] = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([...sentinels.map(killed), ...nodes.map((node) => node.stop())]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const primary = await startRedis(await nodeArgs(dir, 0));
    nodes.push(primary);
    const replicaOf = ['--replicaof', '127.0.0.1', String(primary.port)];
    nodes.push(...(await Promise.all([1, 2].map(async (i) => startRedis([...(await nodeArgs(dir, i)), ...replicaOf])))));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${i}.conf`);
      await writeFile(conf, sentinelConf(port, primary.port, dir));
      sentinels.push(await launchSentinel(conf, port));
      addresses.push({ host: '127.0.0.1', port });
    }
    await Promise.all(addresses.map(({ port }) => quicken(port)));
  } catch (error) {
    await stop();
    throw error;
  }
  const track = <T extends Redis>(client: T): T => {
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const sentinelClients = addresses.map(({ port }) => track(new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 })));
  const admins = new Map<RedisServer, Redis>();
  const admin = (node: RedisServer) => {
    let client = admins.get(node);
    if (!client) {
      client = track(new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 100 }));
      admins.set(node, client);
    }
    return client;
  };
  const byPort = (port: number) => nodes.find((node) => node.port === port);

  /** The primary every Sentinel names (null while they disagree), if it says it is one. */
  const agreedPrimary = async (): Promise<RedisServer | null> => {
    const named = await Promise.all(
      sentinelClients.map((s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER).catch(() => null) as Promise<string[] | null>),
    );
    const ports = new Set(named.map((answer) => Number(answer?.[1])));
    const node = ports.size === 1 ? byPort([...ports][0] as number) : undefined;
    if (!node) return null;
    const role = (await admin(node)
      .call('ROLE')
      .catch(() => null)) as unknown[] | null;
    return role?.[0] === 'master' ? node : null;
  };

  const deployment: SentinelDeployment = {
    name: MASTER,
    sentinels: addresses,
    nodes,
    client: (options = {}) => track(new Redis({ sentinels: addresses, name: MASTER, ...options })),
    admin,
    primary: (within = 10_000) => until(agreedPrimary, within, 'the Sentinels agree on a primary that answers as one'),
    primaryOtherThan: (old, within = 15_000) =>
      until(
        async () => {
          const node = await agreedPrimary();
          return node !== old ? node : null;
        },
        within,
        `the Sentinels agree on a primary other than port ${old.port}`,
      ),
    async failover() {
      const old = await deployment.primary();
      // Refused (INPROG, NOGOODSLAVE) while the last failover settles: ask again.
      await until(
        () =>
          sentinelClients[0]?.call('SENTINEL', 'FAILOVER', MASTER).then(
            () => true,
            () => false,
          ),
        10_000,
        'a Sentinel accepts SENTINEL FAILOVER',
      );
      return deployment.primaryOtherThan(old);
    },
    async revive(node) {
      const primary = await deployment.primary();
      await node.up();
      await admin(node).call('REPLICAOF', '127.0.0.1', String(primary.port));
    },
    async settled(within = 20_000) {
      let state = 'not looked at yet';
      const not = (why: string) => {
        state = why;
        return null;
      };
      const whole = async () => {
        const primary = await agreedPrimary();
        if (!primary) return not('no agreed primary');
        // Both replicas have everything written so far: a write of ours, acknowledged by both.
        await admin(primary).set('primacy-test-helper:settled', String(Date.now()));
        const inSync = Number(await admin(primary).call('WAIT', 2, 200));
        if (inSync !== 2) return not(`primary :${primary.port} has ${inSync} replicas in sync`);
        for (const sentinel of sentinelClients) {
          // Their master-link-status lags (a replica's INFO is read every 10 s): not waited for.
          const replicas = flatMaps(await sentinel.call('SENTINEL', 'REPLICAS', MASTER));
          const up = replicas.filter((r) => !/s_down|disconnected/.test(r.flags ?? ''));
          const peers = flatMaps(await sentinel.call('SENTINEL', 'SENTINELS', MASTER));
          const { flags } = flatMaps([await sentinel.call('SENTINEL', 'MASTER', MASTER)])[0] ?? {};
          if (up.length !== 2 || peers.length !== 2 || flags !== 'master')
            return not(`a Sentinel knows ${up.length} replicas up and ${peers.length} other Sentinels, master flags ${flags}`);
        }
        return primary;
      };
      return until(whole, within, () => `the Sentinel deployment settles (${state})`);
    },
    stop,
  };
  return deployment;
}

/**
 * A data node's own directory (a replica's full sync writes its RDB there, not in the tests'
 * working directory), loading a full sync from the socket when it has no data of its own.
 */
async function nodeArgs(dir: string, index: number): Promise<string[]> {
  const own = join(dir, `node-${index}`);
  await mkdir(own);
  return ['--dir', own, '--repl-diskless-load', 'on-empty-db', '--repl-diskless-sync-delay', '0'];
}

function sentinelConf(port: number, primaryPort: number, dir: string): string {
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
    `sentinel down-after-milliseconds ${MASTER} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${MASTER} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${MASTER} 2`,
    '',
  ].join('\n');
}

/**
 * Shortens a Sentinel's own periods (SENTINEL DEBUG, Redis 7): it reads its instances' INFO every
 * 250 ms (not 10 s) and says hello every 1000 ms (not 2 s), so it learns of replicas, peers and role
 * changes within a second, and turns a former primary that still answers as one into a replica
 * about 4 s after a failover (4 hello periods) instead of 8 to 20 s. The window in which clients
 * connected to the former primary still write to it is real, only shorter. TILT (a stalled timer)
 * ends after 5 s instead of 30, and a dropped link is retried after 1 s instead of 15.
 */
async function quicken(port: number): Promise<void> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    await client.call(
      'SENTINEL',
      'DEBUG',
      'INFO-PERIOD',
      250,
      'PUBLISH-PERIOD',
      1000,
      'TILT-PERIOD',
      5000,
      'MIN-LINK-RECONNECT-PERIOD',
      1000,
    );
  } finally {
    client.disconnect();
  }
}

function launchSentinel(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the Sentinel on port ${port} did not start: ${output}`)), 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server --sentinel (${error.message}); install it (apt-get install redis-server redis-sentinel)`));
    });
    // Read on for the Sentinel's life (a full pipe would stall it); kept only until it is up.
    child.stdout?.on('data', (chunk) => {
      if (process.env.SENTINEL_LOG) process.stderr.write(`[sentinel :${port}] ${chunk}`);
      if (output.includes('+monitor master')) return;
      output += chunk;
      if (output.includes('+monitor master')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Sentinel on port ${port} exited with ${code}: ${output}`));
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

/** SENTINEL REPLICAS / SENTINELS answer a list of flat [key, value, ...] arrays. */
function flatMaps(reply: unknown): Array<Record<string, string>> {
  return (reply as string[][]).map((flat) => {
    const map: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) map[flat[i] as string] = flat[i + 1] as string;
    return map;
  });
}
