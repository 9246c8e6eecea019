/**
 * Private etcd processes on free loopback ports, each in its own temporary data directory, so tests
 * can kill, pause and restart a member (with its data, or empty) without touching anyone else's
 * etcd: one node (`startEtcd`) or a cluster of three (`startEtcdCluster`, `--initial-cluster`).
 * A missing etcd binary is a failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../../harness/pids.js';
import { freePort } from './free-port.js';

/** One etcd member. */
export interface EtcdMember {
  readonly name: string;
  /** `http://127.0.0.1:<port>`: its client URL. */
  readonly url: string;
  readonly pid: number;
  /** Whether it runs (not killed). A paused member still runs. */
  readonly running: boolean;
  /** SIGSTOP: its sockets stay open, nothing answers; resolves once every thread of it is stopped. */
  pause(): Promise<void>;
  resume(): void;
  /** SIGKILL and leave it down (its data stays). */
  kill(): Promise<void>;
  /** Start it again after `kill()`, with the data it had; resolves once it serves (its cluster has a leader). */
  start(): Promise<void>;
  /** SIGKILL, then start again with its data. */
  restart(): Promise<void>;
  /** SIGKILL, delete its data, start it again empty (a single node only: a cluster member would not rejoin). */
  restartEmpty(): Promise<void>;
}

export interface EtcdServer {
  readonly members: readonly EtcdMember[];
  /** Every member's client URL. */
  readonly urls: string[];
  /** SIGKILL every member and delete the data directories. */
  stop(): Promise<void>;
}

/** etcd's default timing: 100 ms heartbeats, a 1 s election timeout (so a 2 s minimum lease TTL). */
const TIMING = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

interface MemberSpec {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

/** Starts one etcd node. */
export async function startEtcd(): Promise<EtcdServer> {
  return startCluster(1);
}

/** Starts a cluster of `size` members (3 by default) and waits until it has a leader. */
export async function startEtcdCluster(size = 3): Promise<EtcdServer> {
  return startCluster(size);
}

async function startCluster(size: number): Promise<EtcdServer> {
  const root = mkdtempSync(join(tmpdir(), 'primacy-etcd-'));
  const specs: MemberSpec[] = [];
  for (let i = 0; i < size; i++) specs.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort() });
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = `primacy-${Math.random().toString(36).slice(2)}`;
  const members = specs.map((spec) => member(spec, join(root, spec.name), initialCluster, token));
  try {
    // Members of a new cluster wait for each other: launch all, then wait for each to serve.
    await Promise.all(members.map((m) => m.start()));
  } catch (error) {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    members,
    urls: members.map((m) => m.url),
    async stop() {
      await Promise.all(members.map((m) => m.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function member(spec: MemberSpec, dataDir: string, initialCluster: string, token: string): EtcdMember {
  const url = `http://127.0.0.1:${spec.clientPort}`;
  const peer = `http://127.0.0.1:${spec.peerPort}`;
  const args = [
    ...['--name', spec.name, '--data-dir', dataDir],
    ...['--listen-client-urls', url, '--advertise-client-urls', url],
    ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
    ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token],
    ...TIMING,
  ];
  let child: ChildProcess | null = null;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  const kill = async () => {
    const c = child;
    child = null;
    if (!c) return;
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await exited(c);
  };
  const start = async () => {
    if (child) throw new Error(`etcd ${spec.name} is already running`);
    child = await launch(args, url, spec.name);
  };
  return {
    name: spec.name,
    url,
    get pid() {
      return child?.pid ?? 0;
    },
    get running() {
      return child !== null;
    },
    pause: async () => {
      if (child?.pid) await stopProcess(child.pid);
    },
    resume: () => child?.kill('SIGCONT'),
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async restartEmpty() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
      await start();
    },
  };
}

/** Spawns etcd and resolves once `/health` says it serves; rejects (killing it) after 20 s or if it exits. */
async function launch(args: string[], url: string, name: string): Promise<ChildProcess> {
  const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk) => {
    output = (output + chunk).slice(-4000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run etcd (${error.message}); install it (apt-get install etcd-server)`)));
    child.once('exit', (code, signal) => reject(new Error(`etcd ${name} exited (${signal ?? code}): ${output}`)));
  });
  failed.catch(() => undefined);
  const deadline = performance.now() + 20_000;
  try {
    for (;;) {
      if (await Promise.race([healthy(url), failed])) return child;
      if (performance.now() > deadline) throw new Error(`etcd ${name} did not serve at ${url} within 20 s: ${output}`);
      await Promise.race([new Promise((r) => setTimeout(r, 50)), failed]);
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

/** How many requests etcd has started serving, by method (`grpc_server_started_total` from `/metrics`; streams count once). */
export async function grpcCalls(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const calls = new Map<string, number>();
  for (const match of text.matchAll(/^grpc_server_started_total\{([^}]*)\} (\d+)/gm)) {
    const method = /grpc_method="([^"]+)"/.exec(match[1] as string)?.[1] ?? '?';
    calls.set(method, (calls.get(method) ?? 0) + Number(match[2]));
  }
  return calls;
}

/** A TCP relay in front of an etcd member, whose connections a test can cut at any moment (requests in flight included). */
export interface ResettingProxy {
  /** `http://127.0.0.1:<port>`: give it to the client instead of the member's URL. */
  readonly url: string;
  /** Destroys every relayed connection, both ways, at once; returns how many sockets it destroyed. */
  reset(): number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<ResettingProxy> {
  const { port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    reset() {
      const cut = sockets.size;
      for (const socket of sockets) socket.destroy();
      return cut;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
