/**
 * The fenced store: a tiny HTTP server on loopback that accepts a write only if its token is at
 * least the highest token it has accepted so far. The store decides, not the candidates: this is
 * what a database with a fencing check (`UPDATE ... WHERE token <= $1`) would do. Every decision is
 * recorded with its arrival time for the report.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostNow } from '../harness/clock.js';
import type { WriteRecord, WriteRequest } from './protocol.js';

export interface Checker {
  readonly url: string;
  /** Every decision, in arrival order. */
  readonly log: readonly WriteRecord[];
  close(): Promise<void>;
}

function isWrite(value: unknown): value is WriteRequest {
  const w = value as WriteRequest;
  return typeof w === 'object' && w !== null && [w.token, w.pid, w.seq, w.checkedAt].every(Number.isFinite);
}

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text;
}

export async function startChecker(): Promise<Checker> {
  const log: WriteRecord[] = [];
  let highest = Number.NEGATIVE_INFINITY;
  const server = createServer(async (request, response) => {
    let write: unknown;
    try {
      write = JSON.parse(await body(request));
    } catch {
      write = undefined;
    }
    if (!isWrite(write)) {
      response.writeHead(400).end('expected {token, pid, seq, checkedAt}\n');
      return;
    }
    // Decided and logged in one synchronous step, so the log order is the decision order.
    const accepted = write.token >= highest;
    if (accepted) highest = write.token;
    log.push({ token: write.token, pid: write.pid, seq: write.seq, checkedAt: write.checkedAt, t: hostNow(), accepted });
    response.writeHead(accepted ? 200 : 409, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted, highest }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/write`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
