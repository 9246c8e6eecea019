/**
 * The worker of the manager failover rounds: an HTTP server on the shared port (the manager acks on
 * `listening`) and an election with elect()'s defaults, which under the manager goes through its
 * arbiter. Reports, as JSON lines on the manager's stdout (cluster workers inherit it), its own
 * process start (`performance.timeOrigin`: fork → ack is the boot time) and every elected/revoked.
 */
import { createServer } from 'node:http';
import { wallNow } from '../../harness/clock.js';
import { elect } from '../../src/index.js';
import { worker } from '../../src/manager/worker.js';

const report = (ev: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ ev, pid: process.pid, name: worker.name, t: wallNow(), ...fields })}\n`);

report('up', { origin: performance.timeOrigin });
const election = elect({ name: 'jobs', logger: false });
election.on('elected', (lease) => report('elected', { token: lease.token }));
election.on('revoked', ({ reason }) => report('revoked', { reason }));
createServer((_request, response) => response.end('ok\n')).listen(Number(process.env.APP_PORT), '127.0.0.1');
