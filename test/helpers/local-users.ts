/**
 * Two local users for the attack tests, for real: the tests run as root and spawn the victim's
 * candidates as `daemon` and the attacker's actions as `nobody`. The victim's candidate is bundled
 * into one plain JavaScript file first, so that these users need no access to the repository (CI
 * clones it wherever it likes) nor to node_modules.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
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
  });
  chmodSync(outfile, 0o644);
  return outfile;
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
 * A squatter on an abstract Unix socket name, run as `who`: `accept` keeps every connection open
 * and never answers; `close` closes each one at once. Resolves once it listens.
 */
export async function squat(who: Account, address: string, behaviour: 'accept' | 'close'): Promise<ChildProcess> {
  const code = `
    const net = require('node:net');
    const server = net.createServer((socket) => { socket.on('error', () => {}); if (process.argv[2] === 'close') socket.destroy(); });
    server.listen({ path: Buffer.from(process.argv[1], 'hex').toString('latin1') }, () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', code, Buffer.from(address, 'latin1').toString('hex'), behaviour], {
    uid: who.uid,
    gid: who.gid,
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`the squatter exited (${code}) before listening: ${stderr}`)));
  });
  return child;
}
