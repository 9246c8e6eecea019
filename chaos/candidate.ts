/**
 * One chaos candidate: campaigns for the lock with the chosen adapter and, while primary, writes
 * fenced records to the checker. Reports `elected` / `revoked` / `busy` as JSON lines on stdout.
 *
 * Each write is checked and sent apart, as real singleton work does: every 20 ms the candidate
 * reads `election.token` (undefined unless `isPrimary`), then "works" for 15–35 ms, then POSTs the
 * write with the token it read. A SIGSTOP or a blocked event loop almost always lands while some
 * write is between its check and its send; on resume that write goes out with the old token, and
 * the checker, not the candidate, has to reject it: the fenced-and-harmless stale write.
 *
 * Settings come from the PRIMACY_CHAOS environment variable (JSON, see protocol.ts), so the same
 * file runs as a plain child or as a worker under the manager (which passes its env on). Its TTL
 * depends on its slot (mixed TTLs), its `identity` label is the fleet's (shared by default).
 * SIGUSR2 makes it spin its event loop for the ms written in `<controlDir>/busy-<pid>`. Under the
 * clock shim (clock.ts) it reports each step of its wall clock it sees (`clock`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elect, fileLock, type LockAdapter } from 'primacy';
import { worker } from 'primacy/manager';
import { redisLock } from 'primacy/redis';
import { redlockLock } from 'primacy/redlock';
import { hostNow } from '../harness/clock.js';
import {
  type CandidateLine,
  type CandidateSettings,
  candidateTtl,
  type LineBody,
  SETTINGS_ENV,
  SLOT_ENV,
  type WriteRequest,
} from './protocol.js';

const settings = JSON.parse(process.env[SETTINGS_ENV] ?? '{}') as CandidateSettings;
// Stdout is a pipe: writes are synchronous on Linux, so a line printed just before a SIGKILL is not lost.
const report = (line: LineBody<CandidateLine>) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: hostNow(), ...line })}\n`);

// The last word, stamped before the process is gone (a stdout pipe write is synchronous): a worker
// leaving with its SIGKILLed manager ends its term here, not when the orchestrator sees it gone.
process.on('exit', (code) => report({ ev: 'exit', code }));

// Installed first: SIGUSR2's default action would kill the process.
process.on('SIGUSR2', () => {
  const ms = Number(readFileSync(join(settings.controlDir, `busy-${process.pid}`), 'utf8'));
  const from = hostNow();
  while (hostNow() - from < ms); // the event loop is blocked: no timer, no I/O, no heartbeat
  reportBlock(from, hostNow(), false);
});

/** Reports a span in which the event loop did not run, once the loop has handled I/O again after it. */
function reportBlock(from: number, to: number, stall: boolean): void {
  // The first check phase comes before the next poll; the second, after it: by then the I/O that
  // arrived during the block (a connection the server closed) has been handled.
  setImmediate(() => setImmediate(() => report({ ev: 'busy', from, to, io: hostNow(), ...(stall ? { stall } : {}) })));
}

// Stalls nobody asked for (the OS ran other processes on a loaded machine) are blocks too: a holder
// that does not run for longer than the Redis adapter's takeoverGrace (50 ms) cannot step down in
// time, which is the busy class. Ticks every 10 ms; a gap above STALL_MS is reported.
const STALL_MS = 30;
let lastTick = hostNow();
setInterval(() => {
  const now = hostNow();
  if (now - lastTick > STALL_MS) reportBlock(lastTick, now, true);
  lastTick = now;
}, 10).unref();

async function lockFor({ adapter, where }: CandidateSettings): Promise<LockAdapter | undefined> {
  if (adapter === 'file') return fileLock({ dir: where });
  if (adapter === 'redis') return redisLock({ url: where });
  if (adapter === 'redlock') return redlockLock({ urls: where.split(',') });
  // Loaded only where used (pg, mysql2 and etcd3's gRPC take a while to load), from the sources:
  // tsconfig's paths do not map primacy/postgres, primacy/mysql, primacy/etcd. Each with its
  // defaults (table, namespace, prefix), which the backend's faults (backend-*.ts) look up.
  if (adapter === 'postgres') return (await import('../adapters/postgres.js')).postgresLock({ connectionString: where });
  if (adapter === 'mysql') return (await import('../adapters/mysql.js')).mysqlLock({ uri: where });
  if (adapter === 'etcd' || adapter === 'etcd-cluster') return (await import('../adapters/etcd.js')).etcdLock({ hosts: where.split(',') });
  // manager and mixed: no lock passed, as a user who relies on the defaults writes it. Under a
  // manager elect() asks its arbiter; a plain process uses fileLock() in the private root, which
  // the run points at its own dir through XDG_RUNTIME_DIR: the very lock the arbiters hold.
  return undefined;
}

// A worker's slot index comes from the manager; a direct child's from the orchestrator.
const slot = worker.index ?? Number(process.env[SLOT_ENV] ?? 0);
const election = elect({
  name: settings.name,
  lock: await lockFor(settings),
  ttl: candidateTtl(settings, slot),
  retryInterval: settings.retryInterval,
  // Every candidate may carry the same label (pods of one deployment do): it must not make them one holder.
  identity: settings.identity,
  logger: false,
});
election.on('elected', (lease) => report({ ev: 'elected', token: lease.token }));
election.on('revoked', ({ reason, lease }) => report({ ev: 'revoked', reason, token: lease.token }));
election.on('error', (error) => report({ ev: 'error', message: error instanceof Error ? error.message : String(error) }));

// Evidence that a clock step (clock-step-* kinds) reached this process: Date.now() against the
// monotonic clock. Nothing else here reads the wall clock; the elector and its adapter may.
let skew = Date.now() - performance.now();
setInterval(() => {
  const now = Date.now() - performance.now();
  if (Math.abs(now - skew) > 1000) report({ ev: 'clock', step: Math.round(now - skew) });
  skew = now;
}, 50);

let seq = 0;
let pending = 0;
const MAX_PENDING = 16; // a stalled checker must not pile up sockets without bound

async function send(write: WriteRequest): Promise<void> {
  try {
    await fetch(settings.checkerUrl, { method: 'POST', body: JSON.stringify(write), signal: AbortSignal.timeout(5000) });
  } catch {
    // The store is unreachable or slow: the write is simply lost, as any write may be. Never crash.
  } finally {
    pending--;
  }
}

setInterval(() => {
  // No read without a write: every `isPrimary` read must reach the store, to be judged.
  if (pending >= MAX_PENDING) return;
  const checkedAt = hostNow();
  const token = election.token;
  if (token === undefined) return;
  const write: WriteRequest = { token, pid: process.pid, seq: ++seq, checkedAt };
  pending++;
  setTimeout(() => void send(write), 15 + Math.random() * 20);
}, 20);

await election.ready;
if (worker.managed) worker.ready();
else process.stdin.on('end', () => process.exit(1)).resume(); // the orchestrator died: do not linger
report({ ev: 'ready' });
