/**
 * The web app of the PaaS-style example (see primacy.config.mjs): POST /signup?email=... queues a
 * welcome mail for the queue worker; GET / says which process answered.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { worker } from 'primacy/manager';

const spool = process.env.SPOOL ?? 'spool';
mkdirSync(join(spool, 'queue'), { recursive: true });

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  response.setHeader('content-type', 'application/json');
  if (request.method === 'POST' && url.pathname === '/signup') {
    const id = randomUUID();
    // Written aside, then renamed: the queue worker never reads half a file.
    const file = join(spool, 'queue', `${id}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ id, email: url.searchParams.get('email') ?? 'someone@example.com' }));
    renameSync(`${file}.tmp`, file);
    response.statusCode = 202;
    response.end(JSON.stringify({ id }));
    return;
  }
  response.end(JSON.stringify({ type: process.env.TYPE, worker: worker.name, pid: process.pid }));
});
server.listen(Number(process.env.PORT ?? 3000));
