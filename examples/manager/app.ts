/**
 * An HTTP app with a per-second scheduler, run under primacy's own worker manager:
 *
 *   npx primacy start examples/manager/app.ts --workers 3
 *
 * Every worker serves requests on the shared PORT (node:cluster). The manager arbitrates the
 * election over IPC (no lock file, no Redis): exactly one worker runs the scheduler, and when it
 * dies the manager grants the role to another worker the moment it sees the exit, then starts a
 * replacement worker in the dead one's slot.
 *
 * Environment: PORT (default 3000), LOCK_NAME (default 'manager-example').
 */
import { createServer } from 'node:http';
import { elect } from 'primacy';
import { scheduleWhilePrimary } from 'primacy/cron';
import { worker } from 'primacy/manager';

const port = Number(process.env.PORT ?? 3000);
const now = () => performance.timeOrigin + performance.now();

/** One JSON line per call. Workers share the manager's stdout; one short write never interleaves. */
function print(ev: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ev, pid: process.pid, t: now(), worker: worker.name, ...fields })}\n`);
}

// Inside a managed worker, elect() uses the manager's arbiter by default.
const election = elect({ name: process.env.LOCK_NAME ?? 'manager-example' });
election.on('elected', (lease) => print('elected', { token: lease.token }));

// Every second, on the primary only. `second` is the second the run fired in: after a
// failover the new primary goes on from the next one, so no second runs twice.
scheduleWhilePrimary(election, '* * * * * *', ({ token, firedAt }) => {
  print('tick', { token, second: Math.floor(firedAt.getTime() / 1000) });
});

const server = createServer((request, response) => {
  if (request.url === '/role') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ pid: process.pid, worker: worker.name, isPrimary: election.isPrimary, token: election.token ?? null }));
    return;
  }
  response.end(`hello from ${worker.name ?? 'an unmanaged process'} (pid ${process.pid})\n`);
});
// Listening is the ack (`--ack listening`, the default): the manager counts this worker as started.
server.listen(port);
