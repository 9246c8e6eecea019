/**
 * The load generator: `concurrency` loops of GET requests to `url`, each waiting for its response
 * before the next, through one keep-alive agent (or a new connection per request with
 * `keepAlive` = `close`). Runs until `durationMs`, or until a `stop` line on stdin (bounded by
 * `durationMs` all the same), then prints one JSON line: requests completed with status 200,
 * failures by error code, and the window measured. A request that got no 200 (or no response within
 * 5 s) is a failure; none is retried.
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { wallNow } from '../../harness/clock.js';

const [url = '', concurrencyArg = '32', durationArg = '5000', mode = 'keep-alive', warmupArg = '0'] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const REQUEST_TIMEOUT_MS = 5000;
const agent = mode === 'close' ? undefined : new Agent({ keepAlive: true, maxSockets: concurrency });
let ok = 0;
const failures: Record<string, number> = {};
let stopping = false;
let counting = false;
let firstFailureAt: number | null = null;
let lastFailureAt: number | null = null;

function once(): Promise<void> {
  return new Promise((settle) => {
    let settled = false;
    const resolve = () => {
      settled = true;
      settle();
    };
    const fail = (code: string) => {
      if (settled) return;
      if (counting) {
        failures[code] = (failures[code] ?? 0) + 1;
        firstFailureAt ??= wallNow();
        lastFailureAt = wallNow();
      }
      resolve();
    };
    const req = request(url, { agent: agent ?? false, headers: mode === 'close' ? { connection: 'close' } : {} }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) {
          if (counting) ok++;
          resolve();
        } else fail(`HTTP ${res.statusCode}`);
      });
      res.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    });
    req.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    // A request nobody answers (a connection accepted by a dying process) would block its loop forever.
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      fail(`no response in ${REQUEST_TIMEOUT_MS} ms`);
      req.destroy();
    });
    req.end();
  });
}

async function loop(): Promise<void> {
  while (!stopping) await once();
}

const loops = Array.from({ length: concurrency }, () => loop());
await new Promise((resolve) => setTimeout(resolve, Number(warmupArg)));
counting = true;
const begun = wallNow();
process.stdout.write(`${JSON.stringify({ ev: 'measuring', t: begun })}\n`);
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, Number(durationArg));
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') {
      clearTimeout(timer);
      resolve();
    }
  });
});
const ended = wallNow();
counting = false;
stopping = true;
await Promise.all(loops);
agent?.destroy();
const seconds = (ended - begun) / 1000;
process.stdout.write(
  `${JSON.stringify({ ev: 'result', t: ended, ok, failures, seconds, rps: ok / seconds, firstFailureAt, lastFailureAt })}\n`,
);
process.exit(0);
