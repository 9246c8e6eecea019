/**
 * PM2 for the comparison, confined to a private PM2_HOME under the bench's temp dir: its daemon
 * never touches ~/.pm2, and `kill()` (`pm2 kill`, then SIGKILL of the daemon's pid if it is still
 * there) runs whatever happened. Driven through its CLI, as users drive it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('pm2/package.json')), 'bin', 'pm2');

export interface Pm2Process {
  pid: number;
  status: string;
  restarts: number;
  instance: number;
}

/** Every PM2_HOME in use, for the synchronous cleanup of a signal handler. */
const homes = new Set<string>();

/** SIGKILLs every PM2 daemon and app this module started (synchronous, for signal handlers). */
export function killPm2Now(): void {
  for (const home of homes) {
    const pidsDir = join(home, 'pids');
    const files = [join(home, 'pm2.pid'), ...(existsSync(pidsDir) ? readdirSync(pidsDir).map((f) => join(pidsDir, f)) : [])];
    for (const file of files) {
      try {
        process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

export class Pm2 {
  readonly home: string;
  constructor(
    dir: string,
    readonly env: Record<string, string>,
  ) {
    this.home = join(dir, 'pm2-home');
    mkdirSync(this.home, { recursive: true });
    homes.add(this.home);
  }

  async cmd(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, ...this.env, PM2_HOME: this.home },
      timeout: 60_000,
      maxBuffer: 16 * 2 ** 20,
    });
    return stdout;
  }

  async list(): Promise<Pm2Process[]> {
    const json = JSON.parse(await this.cmd('jlist')) as Array<{
      pid: number;
      pm2_env: { status: string; restart_time: number; NODE_APP_INSTANCE?: number };
    }>;
    return json.map((p) => ({
      pid: p.pid,
      status: p.pm2_env.status,
      restarts: p.pm2_env.restart_time,
      instance: p.pm2_env.NODE_APP_INSTANCE ?? -1,
    }));
  }

  /** `pm2 kill`, then a SIGKILL to the daemon if its pid file says it survived. Never throws. */
  async kill(): Promise<void> {
    const pidFile = join(this.home, 'pm2.pid');
    const daemon = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : null;
    await this.cmd('kill').catch(() => undefined);
    if (daemon) {
      try {
        process.kill(daemon, 'SIGKILL');
      } catch {
        // Gone: `pm2 kill` did its job.
      }
    }
    homes.delete(this.home);
  }
}

export function pm2Version(): string {
  try {
    return (JSON.parse(readFileSync(require.resolve('pm2/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
