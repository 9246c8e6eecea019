/** What a reader needs to compare these figures with theirs: machine, OS, runtime, package versions. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, type as osType, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

export interface Environment {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  primacy: string;
  properLockfile: string;
  tsx: string;
  redisServer: string;
  ioredis: string;
  redlock: string;
  redisSemaphore: string;
  pm2: string;
  /** The PostgreSQL, MySQL and etcd parts' clients and servers (absent in runs recorded before them). */
  pg?: string;
  mysql2?: string;
  etcd3?: string;
  postgresServer?: string;
  mariadbServer?: string;
  etcdServer?: string;
}

const require = createRequire(import.meta.url);

function versionOf(packageJsonPath: string): string {
  return (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;
}

/** A package's version even when its "exports" hide package.json: walk up from its entry point. */
function installedVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    while (dir !== dirname(dir)) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
        if (json.name === name) return json.version.replace(/^v/, '');
      }
      dir = dirname(dir);
    }
  } catch {
    // Not installed.
  }
  return 'not installed';
}

function redisServerVersion(): string {
  try {
    const text = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    return /v=(\S+)/.exec(text)?.[1] ?? text.trim();
  } catch {
    return 'not installed';
  }
}

/** `command --version`'s version number (the first `x.y.z` in its output), or 'not installed'. */
function serverVersion(command: string): string {
  try {
    const text = execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /\d+\.\d+(\.\d+)?(-MariaDB)?/.exec(text)?.[0] ?? text.trim();
  } catch {
    return 'not installed';
  }
}

function distribution(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? '';
  } catch {
    return '';
  }
}

export function describeEnvironment(): Environment {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: totalmem() / 2 ** 30,
    os: [distribution(), `${osType()} ${release()}`].filter(Boolean).join(', '),
    node: process.version,
    primacy: versionOf(new URL('../package.json', import.meta.url).pathname),
    properLockfile: versionOf(require.resolve('proper-lockfile/package.json')),
    tsx: versionOf(require.resolve('tsx/package.json')),
    redisServer: redisServerVersion(),
    ioredis: installedVersion('ioredis'),
    redlock: installedVersion('redlock'),
    redisSemaphore: installedVersion('redis-semaphore'),
    pm2: installedVersion('pm2'),
    pg: installedVersion('pg'),
    mysql2: installedVersion('mysql2'),
    etcd3: installedVersion('etcd3'),
    postgresServer: serverVersion('/usr/lib/postgresql/15/bin/postgres'),
    mariadbServer: serverVersion('mariadbd'),
    etcdServer: serverVersion('etcd'),
  };
}
