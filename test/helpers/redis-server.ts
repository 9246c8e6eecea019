/**
 * Private redis-server processes on free loopback ports, so tests can kill, pause and restart a
 * node without touching anyone else's Redis. A missing redis-server is a failure, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** A client for test bookkeeping (ACL setup, CLIENT KILL), closed by `stop()`. */
  admin(): Redis;
  pause(): void;
  resume(): void;
  /** SIGKILL, then start again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** SIGKILL and leave it down. */
  down(): Promise<void>;
  /** Start again on the same port after `down()` (empty). */
  up(): Promise<void>;
  stop(): Promise<void>;
}

function launch(port: number, extraArgs: string[]): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extraArgs];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} did not start: ${output}`)), 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (${error.message}); install it (apt-get install redis-server)`));
    });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
}

export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port, extraArgs);
  const admins: Redis[] = [];
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid as number;
    },
    admin() {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 2 });
      client.on('error', () => undefined);
      admins.push(client);
      return client;
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async restart() {
      child.kill('SIGKILL');
      await exited(child);
      child = await launch(port, extraArgs);
    },
    async down() {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
    },
    async up() {
      child = await launch(port, extraArgs);
    },
    async stop() {
      for (const client of admins) client.disconnect();
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}
