/**
 * Same-host liveness and wake-ups without polling (Linux). The holder listens on an abstract-
 * namespace Unix socket named after the lock directory; followers keep a connection open to it.
 * The kernel closes that connection the instant the holder dies (or the holder closes it when it
 * releases), so followers learn of it within a millisecond instead of at their next poll.
 *
 * It is only a hint: the state files stay the lock of record. Abstract sockets do not cross
 * network namespaces, so containers sharing a volume fall back to polling and expiry. Nor do they
 * have permissions: the name mixes in a key only the lock's candidates can read (beacon-key.ts),
 * and a squatter that learns it anyway can only make followers fall back to polling.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';

export const beaconSupported = process.platform === 'linux';

/** The abstract socket name of the lock directory `lockDir` whose beacon key is `key`. */
export function beaconAddress(lockDir: string, key: string): string {
  return `\0primacy:${createHash('sha256').update(key).update('\0').update(lockDir).digest('hex').slice(0, 40)}`;
}

/** The holder's side: listen while holding, close every connection on release. */
export class BeaconServer {
  #server: Server | null = null;
  #retry: NodeJS.Timeout | undefined;
  readonly #connections = new Set<Socket>();

  constructor(private readonly address: string) {}

  /** Starts listening if not already. If the address is still taken, retries for a while. */
  open(attempt = 0): void {
    if (!beaconSupported || this.#server || (attempt === 0 && this.#retry)) return;
    const server = createServer((socket) => {
      this.#connections.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.#connections.delete(socket));
    });
    server.on('error', () => {
      // EADDRINUSE: the previous holder's socket is not freed yet (a killed process can read as
      // a zombie a moment before the kernel unbinds it), or a paused former holder still listens.
      if (this.#server !== server) return;
      this.#server = null;
      server.close();
      if (attempt < 8) {
        this.#retry = retryLater(5 * 2 ** attempt, () => {
          this.#retry = undefined;
          this.open(attempt + 1);
        });
      }
    });
    server.listen({ path: this.address });
    server.unref();
    this.#server = server;
  }

  close(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#server?.close();
    this.#server = null;
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
  }
}

/** A follower's side: a connection to the holder's beacon, reporting when it closes. */
export class BeaconWatch {
  #socket: Socket | null = null;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  /** `address`: the beacon's name, known once a look at the lock directory has read its key (null before). */
  constructor(
    private readonly address: () => string | null,
    private readonly onHolderGone: () => void,
  ) {}

  /** Ensures a connection to the current holder's beacon (retrying briefly while it comes up). */
  follow(attempt = 0): void {
    if (!beaconSupported || this.#closed || this.#socket || (attempt === 0 && this.#retry)) return;
    const path = this.address();
    if (path === null) return;
    const socket = connect({ path });
    socket.unref();
    this.#socket = socket;
    let connected = false;
    let nobodyListening = false;
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      nobodyListening = error.code === 'ECONNREFUSED' || error.code === 'ENOENT';
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = null;
      if (this.#closed) return;
      // Closed after connecting, or reset before our side saw the connect (the holder released
      // in between): either way the holder is gone.
      if (connected || !nobodyListening) this.onHolderGone();
      else if (attempt < 5) {
        // A new holder binds its beacon just after it acquires: give it a moment.
        this.#retry = retryLater(10 * 2 ** attempt, () => {
          this.#retry = undefined;
          this.follow(attempt + 1);
        });
      }
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket?.destroy();
    this.#socket = null;
  }
}

/** Runs `retry` after `ms` without keeping the process alive (a wake-up hint is never worth that). */
function retryLater(ms: number, retry: () => void): NodeJS.Timeout {
  const timer = setTimeout(retry, ms);
  timer.unref();
  return timer;
}
