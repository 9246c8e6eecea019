/**
 * The HTTP workers (node:cluster, one shared port). `POST /jobs` hands the job to the job process
 * (`worker.request('jobs', { submit })`) and answers 202 `{ id }` once it is persisted; `GET
 * /jobs/:id` reads the job's state straight from the store the job process writes, so it answers
 * while the job runs (progress), after it ends (done or failed, result), and while the job process
 * is down.
 *
 * Environment: PORT (default 3000), JOBS_DIR (the store).
 */
import { createServer, type ServerResponse } from 'node:http';
import { PrimacyRequestError, worker } from 'primacy/manager';
import { jobsDir, readJob } from './store.js';

const dir = jobsDir();
const port = Number(process.env.PORT ?? 3000);

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}

createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'POST' && url.pathname === '/jobs') {
    let body = '';
    for await (const chunk of request) body += chunk;
    let input: { steps?: unknown; crashAt?: unknown };
    try {
      input = JSON.parse(body || '{}');
    } catch {
      return reply(response, 400, { error: 'expected a JSON body: { "steps": 1..1000 }' });
    }
    if (!Number.isInteger(input.steps) || (input.steps as number) < 1 || (input.steps as number) > 1000) {
      return reply(response, 400, { error: 'expected { "steps": 1..1000 }' });
    }
    try {
      const { id } = (await worker.request('jobs', { submit: input }, { timeout: 5000 })) as { id: string };
      return reply(response, 202, { id }, { location: `/jobs/${id}` });
    } catch (error) {
      // The job process is restarting, or died before it replied: the client may try again.
      const retry = error instanceof PrimacyRequestError && ['unavailable', 'exited', 'timeout', 'no-handler'].includes(error.reason);
      return reply(response, retry ? 503 : 500, { error: (error as Error).message }, retry ? { 'retry-after': '1' } : {});
    }
  }
  const match = /^\/jobs\/([^/]+)$/.exec(url.pathname);
  if (request.method === 'GET' && match) {
    const job = await readJob(dir, match[1] as string);
    return job ? reply(response, 200, job) : reply(response, 404, { error: `no job ${match[1]}` });
  }
  reply(response, 404, { error: 'POST /jobs or GET /jobs/:id' });
}).listen(port);
