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
 * file runs as a plain child or as a worker under the manager (which passes its env on).
 * SIGUSR2 makes it spin its event loop for the ms written in `<controlDir>/busy-<pid>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { elect, fileLock, type LockAdapter } from 'primacy';
import { worker } from 'primacy/manager';
import { redisLock } from 'primacy/redis';
import { redlockLock } from 'primacy/redlock';
import { type CandidateLine, type CandidateSettings, hostNow, type LineBody, SETTINGS_ENV, type WriteRequest } from './protocol.js';

const settings = JSON.parse(process.env[SETTINGS_ENV] ?? '{}') as CandidateSettings;
// Stdout is a pipe: writes are synchronous on Linux, so a line printed just before a SIGKILL is not lost.
const report = (line: LineBody<CandidateLine>) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: hostNow(), ...line })}\n`);

// Installed first: SIGUSR2's default action would kill the process.
process.on('SIGUSR2', () => {
  const ms = Number(readFileSync(join(settings.controlDir, `busy-${process.pid}`), 'utf8'));
  const from = hostNow();
  while (hostNow() - from < ms); // the event loop is blocked: no timer, no I/O, no heartbeat
  report({ ev: 'busy', from, to: hostNow() });
});

function lockFor({ adapter, where }: CandidateSettings): LockAdapter | undefined {
  if (adapter === 'file') return fileLock({ dir: where });
  if (adapter === 'redis') return redisLock({ url: where });
  if (adapter === 'redlock') return redlockLock({ urls: where.split(',') });
  return undefined; // under the manager, elect() asks the manager's arbiter
}

const election = elect({
  name: settings.name,
  lock: lockFor(settings),
  ttl: settings.ttl,
  retryInterval: settings.retryInterval,
  logger: false,
});
election.on('elected', (lease) => report({ ev: 'elected', token: lease.token }));
election.on('revoked', ({ reason, lease }) => report({ ev: 'revoked', reason, token: lease.token }));
election.on('error', (error) => report({ ev: 'error', message: error instanceof Error ? error.message : String(error) }));

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
  const checkedAt = hostNow();
  const token = election.token;
  if (token === undefined || pending >= MAX_PENDING) return;
  const write: WriteRequest = { token, pid: process.pid, seq: ++seq, checkedAt };
  pending++;
  setTimeout(() => void send(write), 15 + Math.random() * 20);
}, 20);

await election.ready;
if (worker.managed) worker.ready();
else process.stdin.on('end', () => process.exit(1)).resume(); // the orchestrator died: do not linger
report({ ev: 'ready' });
