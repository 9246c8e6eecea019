/**
 * Draining a worker before it is retired. HTTP/1.1 keep-alive clients reuse idle connections, and
 * closing one while a client is already sending on it is an ECONNRESET for that client. So first,
 * for a short window, every response says `Connection: close`: busy clients finish their request
 * and reconnect (to a live worker) on their own; only then are the worker's servers closed.
 */
import { ServerResponse } from 'node:http';

let draining = false;

/** Installed once per worker (by the bootstrap): a no-op until `startDraining()`. */
export function installDrain(): void {
  const writeHead = ServerResponse.prototype.writeHead;
  // Every response goes through writeHead (res.end() without it calls it implicitly).
  ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    if (draining && !this.headersSent) this.setHeader('connection', 'close');
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

export function startDraining(): void {
  draining = true;
}
