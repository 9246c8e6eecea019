/**
 * One instance of an HTTP app run by PM2 in cluster mode (see ecosystem.config.cjs). Every instance
 * serves requests on the shared PORT; the one that wins the file lock is primary and would run the
 * singleton work. When PM2 (or a crash, or the OOM killer) takes the primary away, another instance
 * takes over within milliseconds, without waiting for PM2 to restart anything.
 *
 * Environment: PORT (default 3000), LOCK_NAME (default 'pm2-example'), EVENTS_FILE (optional: role
 * changes are appended there as JSON lines, else printed to stdout, which PM2 keeps in its logs).
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { elect } from 'primacy';

const port = Number(process.env.PORT ?? 3000);
const eventsFile = process.env.EVENTS_FILE;

/** One JSON line per role change: `{ ev, pid, t, token }`, with `t` in wall-clock ms. */
function record(ev: 'ready' | 'elected' | 'revoked', fields: Record<string, unknown> = {}): void {
  const line = `${JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields })}\n`;
  // One small O_APPEND write per line: lines from the four instances never interleave.
  if (eventsFile) appendFileSync(eventsFile, line);
  else process.stdout.write(line);
}

// The default lock is a file in the OS temp directory: every instance on this host shares it. Not
// envLock({ instanceVariable: 'NODE_APP_INSTANCE' }): that choice is static, and the point here is
// that a dead primary is replaced at once.
const election = elect({ name: process.env.LOCK_NAME ?? 'pm2-example' });
election.on('elected', (lease) => record('elected', { token: lease.token }));
election.on('revoked', ({ reason, lease }) => record('revoked', { token: lease.token, reason }));

election.whilePrimary((signal, lease) => {
  // The singleton work goes here (a scheduler, a queue janitor...), stamped with the fencing token.
  // Check `election.isPrimary` right before each side effect: it turns false the instant the lease ends.
  const timer = setInterval(() => {
    if (election.isPrimary) console.log(`pid ${process.pid}: singleton work, fencing token ${lease.token}`);
  }, 5000);
  signal.addEventListener('abort', () => clearInterval(timer));
});

const server = createServer((request, response) => {
  if (request.url === '/role') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ pid: process.pid, isPrimary: election.isPrimary, token: election.token ?? null }));
    return;
  }
  response.end(`hello from pid ${process.pid}\n`);
});

server.listen(port, async () => {
  await election.ready;
  record('ready', { isPrimary: election.isPrimary, token: election.token ?? null });
  // With `wait_ready: true`, PM2 counts this instance as online (and goes on with a reload) only now.
  process.send?.('ready');
});
