/**
 * Two local users for the attack tests, for real: the tests run as root and spawn the victim's
 * candidates as `daemon` and the attacker's actions as `nobody`. The victim's candidate is bundled
 * into one plain JavaScript file first, so that these users need no access to the repository (CI
 * clones it wherever it likes) nor to node_modules.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** A local account from /etc/passwd; throws, saying why, where there is none (the tests need it). */
export function account(name: string): Account {
  if (process.geteuid?.() !== 0)
    throw new Error(`the local-user attack tests run as root, to act as ${name}; this is uid ${process.geteuid?.()}`);
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`no local account "${name}" in /etc/passwd: the local-user attack tests need it`);
}

/** Bundles `entry` (TypeScript) into `<outDir>/<name>.mjs`, readable by every user. */
export async function bundleForAnyUser(entry: string, outDir: string, name: string): Promise<string> {
  // esbuild as tsx (a dev dependency) has it: the same build that runs every other test.
  const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx'))('esbuild') as typeof import('esbuild');
  mkdirSync(outDir, { recursive: true, mode: 0o755 });
  chmodSync(outDir, 0o755);
  const outfile = join(outDir, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // As the package build does (tsup.config.ts): the bundle has no package.json beside it.
    define: { PRIMACY_BUILD_VERSION: JSON.stringify(packageVersion()) },
  });
  chmodSync(outfile, 0o644);
  return outfile;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;
}

/** Runs `code` (JavaScript, with `fs`, `net` and `path` in scope and `args` its arguments) as `who`; throws with its stderr if it fails. */
export function actAs(who: Account, code: string, ...args: string[]): void {
  const result = spawnSync(
    process.execPath,
    ['-e', `const fs = require('node:fs'), path = require('node:path'), args = process.argv.slice(1);\n${code}`, ...args],
    {
      uid: who.uid,
      gid: who.gid,
      cwd: '/',
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`as ${who.name}: ${code}\nfailed (${result.status ?? result.signal}): ${result.stderr}`);
}

/**
 * A squatter on a Unix socket, run as `who`: an abstract name (starting with NUL) is bound; a path
 * is unlinked first (a member of a shared directory's group may replace any file in it) and bound
 * open to every user. `accept` keeps every connection open and never answers; `close` closes each
 * one at once. Resolves once it listens.
 */
export async function squat(who: Account, address: string, behaviour: 'accept' | 'close'): Promise<ChildProcess> {
  const code = `
    const net = require('node:net'), fs = require('node:fs');
    const address = Buffer.from(process.argv[1], 'hex').toString('latin1');
    if (!address.startsWith('\\0')) try { fs.unlinkSync(address); } catch {}
    const server = net.createServer((socket) => { socket.on('error', () => {}); if (process.argv[2] === 'close') socket.destroy(); });
    server.listen({ path: address }, () => {
      if (!address.startsWith('\\0')) fs.chmodSync(address, 0o666);
      console.log('listening');
    });`;
  return untilLine(spawnAs(who, code, [Buffer.from(address, 'latin1').toString('hex'), behaviour]), 'the squatter');
}

/** What `flood` saw: connections accepted (and still open a second later), and the errors of the others by code. */
export interface FloodResult {
  readonly connected: number;
  readonly open: number;
  readonly errors: Record<string, number>;
}

/**
 * Opens `count` connections to the Unix socket `address` as `who`, holds them for `holdMs`, and
 * reports what happened to them.
 */
export async function flood(who: Account, address: string, count: number, holdMs: number): Promise<FloodResult> {
  const code = `
    const net = require('node:net');
    const [address, count, hold] = [Buffer.from(process.argv[1], 'hex').toString('latin1'), Number(process.argv[2]), Number(process.argv[3])];
    let connected = 0; const errors = {}; const sockets = [];
    for (let i = 0; i < count; i++) {
      const socket = net.connect({ path: address });
      socket.on('connect', () => connected++);
      socket.on('error', (error) => { errors[error.code] = (errors[error.code] || 0) + 1; });
      sockets.push(socket);
    }
    setTimeout(() => {
      const open = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
      setTimeout(() => { console.log(JSON.stringify({ connected, open, errors })); process.exit(0); }, Math.max(0, hold - 1000));
    }, 1000);`;
  const child = spawnAs(who, code, [Buffer.from(address, 'latin1').toString('hex'), String(count), String(holdMs)]);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('close', (status) => reject(new Error(`the flood exited (${status}) without a report: ${stderr}`)));
  });
  return JSON.parse(line) as FloodResult;
}

/**
 * The Unix sockets process `pid` listens on (Linux, from /proc), as addresses to connect to: a
 * path, or an abstract name starting with NUL (/proc shows it as '@', padded with '@' for the NULs
 * Node binds it with).
 */
export function listenersOf(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = tryReadlink(`/proc/${pid}/fd/${fd}`);
    if (target?.startsWith('socket:[')) inodes.add(target.slice('socket:['.length, -1));
  }
  const addresses: string[] = [];
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 (__SO_ACCEPTCON) marks a listener.
    const [, , , flags = '0', , , inode = '', path] = line.trim().split(/\s+/);
    if (path && inodes.has(inode) && (Number.parseInt(flags, 16) & 0x10000) !== 0)
      addresses.push(path.startsWith('@') ? `\0${path.slice(1).replace(/@+$/, '')}` : path);
  }
  return addresses;
}

/** Limits the open files of the running process `pid` of `owner` (as `owner`: lowering one's own limits takes no privilege). */
export function limitDescriptors(owner: Account, pid: number, limit: number): void {
  const result = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`], {
    uid: owner.uid,
    gid: owner.gid,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`prlimit --pid ${pid} failed (${result.status ?? result.error}): ${result.stderr}`);
}

function spawnAs(who: Account, code: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['-e', code, ...args], { uid: who.uid, gid: who.gid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with `child` once it printed its first line (it is ready); rejects, with its stderr, if it exits first. */
async function untilLine(child: ChildProcess, what: string): Promise<ChildProcess> {
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

function tryReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
