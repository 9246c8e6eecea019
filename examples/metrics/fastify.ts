/**
 * A Fastify app that serves its election's metrics at /metrics for Prometheus: whether this
 * instance is the primary (`leader_election_master_status`, the gauge Kubernetes dashboards chart),
 * its fencing token, transitions, acquire attempts, renew latency and failovers seen.
 *
 * The lock is primacy's default (a file lock in the OS temp dir): run several instances on one host.
 * Env: PORT (0 = any free port), HOST, LOCK_NAME, PRIMACY_TTL (ms). One JSON line per event on stdout.
 */
import Fastify from 'fastify';
import primacy from 'primacy/fastify';
import { prometheusMetrics } from 'primacy/metrics';
import { register } from 'prom-client';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const name = process.env.LOCK_NAME ?? 'metrics-fastify-example';
const ttl = Number(process.env.PRIMACY_TTL ?? 10_000);

const print = (ev: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));

// prom-client's global registry (its default metrics could be added beside: collectDefaultMetrics()).
const metrics = prometheusMetrics({ registry: register });

const app = Fastify();
await app.register(primacy, { name, ttl });
// The election exists from onReady on; observed then, the term won in its first round counts.
app.addHook('onReady', async () => {
  metrics.observe(app.primacy);
  app.primacy.whilePrimary((_signal, lease) => print('elected', { token: lease.token }));
  app.primacy.on('revoked', ({ reason, lease }) => print('revoked', { reason, token: lease.token }));
});

app.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()));

// Graceful shutdown: app.close() releases the lock, so the next primary takes over at once.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}

await app.listen({ port, host });
print('listening', { port: (app.server.address() as { port: number }).port, isPrimary: app.primacy.isPrimary });
