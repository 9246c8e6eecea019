/**
 * Same-host liveness and wake-ups without polling (Linux). The holder listens on a Unix socket in
 * the lock directory (beacon-file.ts); followers keep a connection open to it. The kernel closes
 * that connection the instant the holder dies (or the holder closes it when it releases), so
 * followers learn of it within a millisecond instead of at their next poll.
 *
 * It is only a hint: the state files stay the lock of record. Only those who may enter the lock
 * directory can connect, so only the lock's own candidates can squat on it (in a shared directory:
 * another member of its group), and a squatter can only make followers fall back to polling.
 * Sockets do not cross hosts, so candidates on other hosts sharing a volume poll and wait for expiry.
 */
import { unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { beaconPath, removeStaleBeacons, setSocketMode } from './beacon-file.js';

export const beaconSupported = process.platform === 'linux';

/**
 * Followers the holder keeps connected at most: one per candidate watching the lock, far fewer than
 * a process's file descriptors (1024 by default). Beyond it, connections are closed at once and those
 * followers poll; whoever opened them cannot take the descriptors the holder needs to renew.
 */
export const MAX_FOLLOWERS = 128;

/** The holder's side: listen while holding lease `token`, close every connection on release. */
export class BeaconServer {
  #server: Server | null = null;
  /** The bind in progress, if any. */
  #opening: Promise<void> | null = null;
  #closed = false;
  readonly #connections = new Set<Socket>();
  readonly #path: string | null;

  /** `shared`: the lock directory is shared with a group, whose members must be able to connect. */
  constructor(
    readonly dir: string,
    readonly token: number,
    private readonly shared: boolean,
  ) {
    this.#path = beaconPath(dir, token);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts listening if not already. Without a beacon (no room for the path, binding fails), followers poll. */
  open(): void {
    if (!beaconSupported || this.#path === null || this.#server || this.#opening || this.#closed) return;
    this.#opening = this.#listen(this.#path).finally(() => {
      this.#opening = null;
    });
  }

  /**
   * Stops listening and closes every connection. Resolves once a bind in progress has settled too
   * (it closes what it bound): from then on no socket file of ours is left in the lock directory.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#server?.close(); // unlinks the socket file (libuv): ours, named after our token
    this.#server = null;
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    return this.#opening ?? Promise.resolve();
  }

  async #listen(path: string): Promise<void> {
    await removeStaleBeacons(this.dir, this.token);
    for (let attempt = 0; attempt < 3 && !this.#closed; attempt++) {
      const outcome = await this.#bind(path);
      if (outcome !== 'EADDRINUSE') return;
      // Only the holder of this token binds this name: what is there is a squatter's (a member of a
      // shared directory's group) or a leftover. Never someone's beacon we would silence.
      await unlink(path).catch(() => undefined);
    }
  }

  /** Binds and listens at `path`: 'listening', or the error code (then followers poll). */
  #bind(path: string): Promise<string> {
    return new Promise((resolve) => {
      const server = createServer((socket) => {
        this.#connections.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.#connections.delete(socket));
      });
      server.maxConnections = MAX_FOLLOWERS;
      server.once('error', (error: NodeJS.ErrnoException) => {
        server.close();
        resolve(error.code ?? 'error');
      });
      // exclusive: in a node:cluster worker, bind in this process, not in the primary (which would
      // keep listening after this process died, and so hide its death).
      server.listen({ path, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        if (this.#closed) server.close();
        else this.#server = server;
        void setSocketMode(path, this.shared ? 0o660 : 0o600)
          .catch(() => false)
          .then(() => resolve('listening'));
      });
      server.unref();
    });
  }
}

/** A follower's side: a connection to the holder's beacon, reporting when it closes. */
export class BeaconWatch {
  #socket: Socket | null = null;
  #path: string | null = null;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  /** `path`: the current holder's beacon, once an acquire attempt found who holds the lock (null before). */
  constructor(
    private readonly path: () => string | null,
    private readonly onHolderGone: () => void,
  ) {}

  /** Ensures a connection to the current holder's beacon (retrying briefly while it comes up). */
  follow(attempt = 0): void {
    if (!beaconSupported || this.#closed || (attempt === 0 && this.#retry)) return;
    const path = this.path();
    if (path === null || (this.#socket && this.#path === path)) return;
    // Still connected to a former holder's beacon (it lost its lease without closing it): drop it quietly.
    this.#socket?.destroy();
    const socket = connect({ path });
    socket.unref();
    this.#socket = socket;
    this.#path = path;
    let connected = false;
    let failure: string | undefined;
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code;
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return; // dropped for a newer holder's, or we stopped watching
      this.#socket = null;
      const nobodyListening = failure === 'ECONNREFUSED' || failure === 'ENOENT';
      // Not ours to reach (a socket file of another member of a shared directory's group, or a
      // holder that could not open it to the group): nothing to watch, the next poll looks.
      if (!connected && (failure === 'EACCES' || failure === 'EPERM')) return;
      // Closed after connecting, or reset before our side saw the connect (the holder released
      // in between): either way the holder is gone.
      if (connected || !nobodyListening) this.onHolderGone();
      else if (attempt < 8) {
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
    const socket = this.#socket;
    this.#socket = null;
    socket?.destroy();
  }
}

/** Runs `retry` after `ms` without keeping the process alive (a wake-up hint is never worth that). */
function retryLater(ms: number, retry: () => void): NodeJS.Timeout {
  const timer = setTimeout(retry, ms);
  timer.unref();
  return timer;
}
