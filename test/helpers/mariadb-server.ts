/**
 * MariaDB for the MySQL lock's tests: private `mariadbd` processes on free loopback ports (so a
 * test can kill, pause and restart one without touching anyone else's), the machine's shared
 * server at 127.0.0.1:3306, and a TCP proxy that can cut connections with commands in flight.
 * A missing binary or server is a failure, never a skip.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { stopProcess } from '../../harness/pids.js';
import { freePort } from './free-port.js';

export interface MariadbServer {
  readonly port: number;
  /** `mysql://root@127.0.0.1:<port>/test` */
  readonly uri: string;
  readonly pid: number;
  /** A connection for test bookkeeping (grants, KILL, status), closed by `stop()`. */
  admin(): Promise<mysql.Connection>;
  /** SIGSTOP; resolves once every thread of the server is stopped (so nothing answers from then on). */
  pause(): Promise<void>;
  resume(): void;
  /** SIGKILL, then start again on the same port with the same data (InnoDB recovers it). */
  restart(): Promise<void>;
  /** SIGKILL and remove the data. */
  stop(): Promise<void>;
}

export interface MariadbOptions {
  /** Extra mariadbd arguments (`--wait-timeout=2`). */
  readonly args?: readonly string[];
}

/** Starts a private MariaDB with an empty `test` database (root, no password). */
export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'primacy-mariadb-'));
  const datadir = join(dir, 'data');
  const install = spawnSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--user=root', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (install.error || install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `cannot run mariadb-install-db (${install.error?.message ?? install.stderr}); install it (apt-get install mariadb-server)`,
    );
  }
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--port=${port}`,
    `--socket=${join(dir, 'sock')}`,
    `--pid-file=${join(dir, 'pid')}`,
    '--bind-address=127.0.0.1',
    '--skip-log-bin',
    '--skip-name-resolve',
    '--user=root',
    '--innodb-buffer-pool-size=16M',
    '--max-connections=600',
    ...(options.args ?? []),
  ];
  let child = await launch(args, port);
  const admins: mysql.Connection[] = [];
  const uri = `mysql://root@127.0.0.1:${port}/test`;
  const killed = async () => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  };
  try {
    const bootstrap = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
    await bootstrap.query('CREATE DATABASE IF NOT EXISTS test');
    await bootstrap.end();
  } catch (error) {
    await killed();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    uri,
    get pid() {
      return child.pid as number;
    },
    async admin() {
      const connection = await mysql.createConnection(uri);
      connection.on('error', () => undefined);
      admins.push(connection);
      return connection;
    },
    pause: () => stopProcess(child.pid as number),
    resume: () => child.kill('SIGCONT'),
    async restart() {
      await killed();
      child = await launch(args, port);
    },
    async stop() {
      for (const connection of admins.splice(0)) connection.destroy();
      await killed();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every mariadbd still running, killed when the test process exits however it ends (a worker that dies leaves no server behind). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn('mariadbd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`mariadbd on port ${port} did not start: ${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.on('error', (error) => fail(new Error(`cannot run mariadbd (${error.message}); install it (apt-get install mariadb-server)`)));
    const read = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('ready for connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('exit', (code, signal) => fail(new Error(`mariadbd exited (${signal ?? code}): ${output}`)));
  });
}

/** The machine's MariaDB (127.0.0.1:3306, root, no password, database `test`): fails when it is not there. */
export const SHARED_URI = 'mysql://root@127.0.0.1:3306/test';

export async function checkSharedMariadb(): Promise<void> {
  try {
    const connection = await mysql.createConnection(SHARED_URI);
    await connection.end();
  } catch (error) {
    throw new Error(`the machine's MariaDB at 127.0.0.1:3306 is not reachable as root (${(error as Error).message})`);
  }
}

/** A TCP proxy in front of a server: `cut()` resets every connection through it (commands in flight included). */
export interface TcpProxy {
  readonly port: number;
  /** Connections open through it now. */
  readonly open: number;
  cut(): void;
  /**
   * Stops forwarding, both ways, with every connection left open: to the server the client looks
   * paused (SIGSTOP), to the client the server does.
   */
  freeze(): void;
  /** Cuts every connection and refuses new ones, for good. */
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Frozen, a client that gives up (its statement timed out) leaves the server's side open, as a
    // paused process would: the kernel keeps its socket.
    client.on('error', () => frozen || end()).on('close', () => frozen || end());
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const [client, upstream] of [...pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    port,
    get open() {
      return pairs.size;
    },
    cut,
    freeze() {
      frozen = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      frozen = false;
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
