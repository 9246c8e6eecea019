/**
 * A Fastify app run as several instances against one Redis: every instance serves HTTP, and only
 * the primary runs the once-a-second scheduler. Kill the primary and another instance takes over
 * the schedule (within ~100 ms after a crash: its Redis connection closes; at most the TTL).
 *
 * Env: PORT (0 = any free port), HOST, REDIS_URL, PRIMACY_TTL (ms), POD_NAME (the lock holder's identity). One JSON line per event on stdout.
 */
import Fastify from 'fastify';
import { scheduleWhilePrimary } from 'primacy/cron';
import primacy from 'primacy/fastify';
import { redisLock } from 'primacy/redis';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ttl = Number(process.env.PRIMACY_TTL ?? 10_000);

const print = (ev: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));

const app = Fastify();
const lock = redisLock({ url: redisUrl });
// In Kubernetes, the pod's name (POD_NAME from the downward API) shows who holds the lock.
const identity = process.env.POD_NAME || undefined;
await app.register(primacy, { name: 'fastify-redis-example', lock, ttl, identity, healthRoute: '/healthz' });

// `app.primacy` exists from onReady on (the plugin campaigns there, not while the app boots);
// this hook runs after the plugin's, so the first round is over and work starts on the primary.
app.addHook('onReady', async () => {
  app.primacy.whilePrimary((_signal, lease) => print('elected', { token: lease.token }));
  app.primacy.on('revoked', ({ reason, lease }) => print('revoked', { reason, token: lease.token }));
  scheduleWhilePrimary(app.primacy, '* * * * * *', ({ token, firedAt }) => {
    print('tick', { token, second: Math.floor(firedAt.getTime() / 1000) });
  });
});

// Every instance serves requests; only the scheduler is singleton work.
app.get('/', async () => ({ pid: process.pid, primary: app.primacy.isPrimary }));

// Graceful shutdown: app.close() stops the schedule and releases the lock (the next primary
// takes over at once), then the Redis client this lock created is closed so the process can exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    await app.close();
    await lock.close?.();
  });
}

await app.listen({ port, host });
print('listening', { port: (app.server.address() as { port: number }).port });
