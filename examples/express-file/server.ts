/**
 * An Express 5 app that every instance serves, with a once-a-second job that only the primary runs.
 * The lock is primacy's default, a file lock in the OS temp directory: instances on one host elect one
 * primary among them; if it dies, another takes over within milliseconds.
 *
 * Prints one JSON line per event: listening, elected, revoked, tick (each with pid and wall time t).
 * Env: PORT (default 3000; 0 picks a free one), HOST (default 127.0.0.1), LOCK_NAME (default
 * 'express-file-example'), PRIMACY_TTL (ms, default 10000), LOCK_DIR (the lock's directory, default
 * the OS temp dir; a volume shared by containers on one host, see examples/docker-compose).
 */
import express from 'express';
import { fileLock } from 'primacy';
import { scheduleWhilePrimary } from 'primacy/cron';
import { listenWithPrimacy, primacyHealth } from 'primacy/express';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const name = process.env.LOCK_NAME ?? 'express-file-example';
const ttl = Number(process.env.PRIMACY_TTL ?? 10_000);

const log = (ev: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));

const app = express();
app.get('/', (req, res) => {
  res.send(`pid ${process.pid} is ${req.app.locals.primacy?.isPrimary ? 'the primary' : 'a follower'}\n`);
});
// 200 while primary or a follower that can reach the lock, else 503: a readiness probe.
app.get('/healthz', primacyHealth());

// Campaigns once the port is bound; `server.close()` (and SIGTERM/SIGINT) release the lock.
const lock = process.env.LOCK_DIR ? fileLock({ dir: process.env.LOCK_DIR }) : undefined;
const { server, election } = await listenWithPrimacy(app, { port, host }, { name, ttl, lock });

log('listening', { port: (server.address() as { port: number }).port, isPrimary: election.isPrimary });

// The singleton work: started on every election, stopped (before the lock is released) on loss or shutdown.
scheduleWhilePrimary(election, '* * * * * *', ({ token, firedAt }) => {
  log('tick', { token, second: Math.floor(firedAt.getTime() / 1000) });
});
election.whilePrimary((_signal, lease) => log('elected', { token: lease.token }));
election.on('revoked', ({ reason, lease }) => log('revoked', { reason, token: lease.token }));

// Graceful shutdown: close() stops the election at once (the next primary does not wait for open
// connections to finish), and its callback runs once the lock is released.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
