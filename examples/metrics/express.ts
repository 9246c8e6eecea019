/**
 * An Express app that serves its election's metrics at /metrics for Prometheus: whether this
 * instance is the primary (`leader_election_master_status`, the gauge Kubernetes dashboards chart),
 * its fencing token, transitions, acquire attempts, renew latency and failovers seen.
 *
 * The lock is primacy's default (a file lock in the OS temp dir): run several instances on one host.
 * Env: PORT (0 = any free port), HOST, LOCK_NAME, PRIMACY_TTL (ms). One JSON line per event on stdout.
 */
import express from 'express';
import { listenWithPrimacy } from 'primacy/express';
import { prometheusMetrics } from 'primacy/metrics';
import { Registry } from 'prom-client';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const name = process.env.LOCK_NAME ?? 'metrics-express-example';
const ttl = Number(process.env.PRIMACY_TTL ?? 10_000);

const print = (ev: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));

// A registry of the app's own (prom-client's global `register` works the same).
const registry = new Registry();
const metrics = prometheusMetrics({ registry });

const app = express();
app.get('/metrics', async (_request, response) => {
  response.type(registry.contentType).send(await registry.metrics());
});

// Campaigns once the port is bound; `server.close()` (and SIGTERM/SIGINT) release the lock.
const { server, election } = await listenWithPrimacy(app, { port, host }, { name, ttl });
metrics.observe(election);
election.whilePrimary((_signal, lease) => print('elected', { token: lease.token }));
election.on('revoked', ({ reason, lease }) => print('revoked', { reason, token: lease.token }));
print('listening', { port: (server.address() as { port: number }).port, isPrimary: election.isPrimary });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
