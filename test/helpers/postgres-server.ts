/**
 * Private PostgreSQL servers (and PgBouncers in front of them) on free loopback ports, so tests can
 * kill, pause and restart a server without touching anyone else's. initdb and postgres refuse to
 * run as root, and the tests run as root: both run as the `postgres` user, in a temporary directory
 * it owns. A missing binary is a failure, never a skip. Also the machine's shared server, for the
 * conformance suite, and a TCP relay whose connections a test can cut.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

const BIN = '/usr/lib/postgresql/15/bin';
const PGBOUNCER = '/usr/sbin/pgbouncer';
/** The `postgres` system user (uid 101, gid 104 on this machine), looked up rather than assumed. */
const POSTGRES_USER = lookUpUser('postgres');

/** The machine's shared server (the conformance suite's): trust auth, database `test`. */
export const SHARED_URL = process.env.PRIMACY_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /** A connected client for test bookkeeping (pg_terminate_backend, counting), ended by `stop()`. */
  admin(): Promise<pg.Client>;
  /** SIGSTOP / SIGCONT every process of the server (postmaster and backends). */
  pause(): void;
  resume(): void;
  /** SIGKILL the postmaster and its backends, then start again on the same port with the same data. */
  restart(): Promise<void>;
  /** SIGKILL everything and remove the data. */
  stop(): Promise<void>;
  /** Everything the server logged since it first started, when started with `log: true`. */
  log(): string;
}

export interface StartOptions {
  /** Keep the server's log (`log()`), e.g. with `log_statement: 'all'` to count statements. */
  readonly log?: boolean;
  /** A hot standby of this server (pg_basebackup -R): read-only, streaming from it. */
  readonly standbyOf?: PostgresServer;
}

function lookUpUser(name: string): { uid: number; gid: number } | null {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name]).toString().trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

/** Options for `spawn` that run a process as the postgres user (when we are root). */
function asPostgres(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  if (!POSTGRES_USER) throw new Error('no `postgres` system user to run PostgreSQL as (apt-get install postgresql)');
  return POSTGRES_USER;
}

function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const user = asPostgres();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid as number);
  return dir;
}

/** Runs `command` to completion as the postgres user; rejects with its output when it fails. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...asPostgres(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => reject(new Error(`cannot run ${command} (${error.message}); install postgresql-15`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${output}`))));
  });
}

/** Starts `command` and resolves once a line of its output matches `ready`; later output goes to `onOutput`. */
function launch(command: string, args: string[], ready: RegExp, what: string, onOutput?: (chunk: string) => void): Promise<ChildProcess> {
  const child = spawn(command, args, { ...asPostgres(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', read);
        child.stderr?.off('data', read);
        // Keep draining, so a chatty server never blocks on a full pipe.
        child.stdout?.on('data', (more: Buffer) => onOutput?.(String(more)));
        child.stderr?.on('data', (more: Buffer) => onOutput?.(String(more)));
        resolve(child);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (${error.message})`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${output}`));
    });
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));

/** The pids of `pid`'s children (a postmaster's backends), from /proc. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)])
      .toString()
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function signalAll(pid: number, signal: NodeJS.Signals): void {
  for (const target of [pid, ...childrenOf(pid)]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * initdb (or, for a standby, pg_basebackup) and start a private server. `settings` are
 * postgresql.conf lines (`idle_session_timeout: '1s'`). Data survives `restart()`; `stop()` removes it.
 */
export async function startPostgres(settings: Record<string, string | number> = {}, options: StartOptions = {}): Promise<PostgresServer> {
  const home = ownedTempDir('primacy-pg-');
  const data = join(home, 'data');
  const primary = options.standbyOf;
  if (primary) await run(join(BIN, 'pg_basebackup'), ['-D', data, '-R', '-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres']);
  else await run(join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-N', '--no-instructions']);
  const port = await freePort();
  const conf = { listen_addresses: '127.0.0.1', unix_socket_directories: home, fsync: 'off', max_connections: 300, ...settings };
  const args = ['-D', data, '-p', String(port), ...Object.entries(conf).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  let log = '';
  const keep = options.log ? (chunk: string) => (log += chunk) : undefined;
  const start = () => launch(join(BIN, 'postgres'), args, /ready to accept (read-only )?connections/, `postgres on port ${port}`, keep);
  let child = await start();
  const admins: pg.Client[] = [];
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const kill = async () => {
    signalAll(child.pid as number, 'SIGCONT');
    signalAll(child.pid as number, 'SIGKILL');
    await exited(child);
  };
  return {
    port,
    url,
    get pid() {
      return child.pid as number;
    },
    log: () => log,
    async admin() {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      // Bookkeeping must outlive a server configured to end idle sessions (the hazards under test).
      await client.query('SET idle_session_timeout = 0; SET idle_in_transaction_session_timeout = 0');
      admins.push(client);
      return client;
    },
    pause: () => signalAll(child.pid as number, 'SIGSTOP'),
    resume: () => signalAll(child.pid as number, 'SIGCONT'),
    async restart() {
      await kill();
      child = await start();
    },
    async stop() {
      for (const client of admins.splice(0)) await client.end().catch(() => undefined);
      await kill();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface PgBouncer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** A PgBouncer on a free port in front of `server`, in `poolMode` (`transaction`, `session`). */
export async function startPgBouncer(server: PostgresServer, poolMode: 'session' | 'transaction'): Promise<PgBouncer> {
  const home = ownedTempDir('primacy-pgbouncer-');
  const port = await freePort();
  const ini = join(home, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=127.0.0.1 port=${server.port} user=postgres`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${home}`,
      'auth_type = any',
      `pool_mode = ${poolMode}`,
      'default_pool_size = 4',
      'ignore_startup_parameters = extra_float_digits,options',
    ].join('\n'),
  );
  const user = asPostgres();
  if (user.uid !== undefined) chownSync(ini, user.uid, user.gid as number);
  const child = await launch(PGBOUNCER, [ini], /process up|listening on/i, `pgbouncer on port ${port}`);
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      child.kill('SIGKILL');
      await exited(child);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A TCP relay to `port`: `cut()` resets every connection through it, `close()` also stops accepting. */
export interface Relay {
  readonly port: number;
  cut(): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server: Server = createServer((inbound) => {
    const outbound = tcpConnect(targetPort, '127.0.0.1');
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };
  return {
    port,
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
