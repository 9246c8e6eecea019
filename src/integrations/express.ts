/**
 * Express integration (`primacy/express`), for Express 4 and 5: only types come from 'express', so
 * whichever major the app uses is the one that runs.
 *
 * The election follows the server's life: it campaigns once the server listens (a process that
 * failed to bind its port never becomes primary) and stops — work aborted and awaited, lock
 * released — when the server closes, and on SIGTERM/SIGINT (`handleSignals`).
 */
import { createServer, type Server } from 'node:http';
import type { ListenOptions } from 'node:net';
import type { Application } from 'express';
import { type Checks, checksFor } from '../_internal/checks.js';
import { type Election, elect } from '../elector.js';
import { PrimacyError } from '../errors.js';
import { type ElectionOptions, resolveOptions } from '../options.js';

export { primacyHealth } from './express-health.js';
export type { ElectionHealth, HealthOptions } from './health.js';

declare global {
  namespace Express {
    interface Locals {
      /** This app's election, set by primacy's `attachPrimacy()` / `listenWithPrimacy()` once the server listens. */
      primacy?: Election;
    }
  }
}

/** The options of the election the server runs (see `elect()`); `name` is required. */
export type ExpressPrimacyOptions = ElectionOptions;

/** What `listenWithPrimacy()` resolves with. */
export interface PrimacyServer {
  /** The listening server. `server.close()` also stops the election. */
  readonly server: Server;
  /** The election, past its first campaign round (`isPrimary` is meaningful). Also `app.locals.primacy`. */
  readonly election: Election;
}

const attachedServers = new WeakSet<Server>();

/**
 * Ties an election to a server you created (`http.createServer(app)`, `https.createServer(opts, app)`).
 * The election starts when the server listens (at once if it already does) and is published as
 * `app.locals.primacy` (so `req.app.locals.primacy` in handlers). It stops when `server.close()` is
 * *called* — not only when the server has closed: `close()` waits for every open connection, and a
 * keep-alive or streaming client must not keep the lock held. `close(callback)`'s callback runs once
 * the server has closed and the lock has been released, so `server.close(() => process.exit())` is safe.
 * If the server listens again later, a new election starts.
 *
 * Resolves with the election once the server listens and the first campaign round is over; rejects
 * if the server fails to listen (EADDRINUSE, ...) or closes first. Bad options throw at once.
 */
export function attachPrimacy(server: Server, app: Application, options: ExpressPrimacyOptions): Promise<Election> {
  const check = checksFor('attachPrimacy()', 'express');
  check.shape('server', server, ['listen', 'close', 'on', 'off'], 'an http.Server (http.createServer(app))');
  checkApp(check, app);
  resolveOptions(options, 'attachPrimacy()'); // Bad election options fail now, not when the server starts listening.
  if (attachedServers.has(server)) check.fail('server', server, 'a server primacy is not attached to yet (attach once per server)');
  if (app.locals.primacy !== undefined && !app.locals.primacy.stopped) {
    check.fail('app', app, 'an app without a running election (app.locals.primacy is already set)');
  }
  attachedServers.add(server);

  let current: Election | undefined;
  const start = (): Election => {
    if (current === undefined || current.stopped) {
      current = elect(options);
      app.locals.primacy = current;
    }
    return current;
  };
  const stop = (): Promise<void> => (current ? current.stop().catch(() => undefined) : Promise.resolve());

  releaseOnClose(server, stop);
  server.on('listening', start);
  if (server.listening) return ready(start());
  return new Promise<Election>((resolve, reject) => {
    const settle = () => {
      server.off('listening', onListening);
      server.off('error', onError);
      server.off('close', onClose);
    };
    const onListening = () => {
      settle();
      resolve(ready(start()));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    const onClose = () => {
      settle();
      reject(new PrimacyError('ERR_PRIMACY_NOT_LISTENING', '[primacy] [express] the server closed before it listened'));
    };
    server.on('listening', onListening);
    server.on('error', onError);
    server.on('close', onClose);
  });
}

/**
 * Creates an http.Server for `app`, attaches an election to it (see `attachPrimacy()`), listens and
 * resolves once it listens and the first campaign round is over. `listen` is a port or
 * `net.ListenOptions` (`{ port, host }`, `{ path }`); port 0 picks a free port (`server.address()`).
 */
export function listenWithPrimacy(
  app: Application,
  listen: number | ListenOptions,
  options: ExpressPrimacyOptions,
): Promise<PrimacyServer> {
  const check = checksFor('listenWithPrimacy()', 'express');
  const listenOptions = typeof listen === 'number' ? { port: listen } : listen;
  if (typeof listenOptions !== 'object' || listenOptions === null || Array.isArray(listenOptions)) {
    check.fail('listen', listen, 'a port number or net.ListenOptions ({ port, host })');
  }
  checkApp(check, app);
  resolveOptions(options, 'listenWithPrimacy()');
  const server = createServer(app);
  const attached = attachPrimacy(server, app, options);
  server.listen(listenOptions);
  return attached.then((election) => ({ server, election }));
}

async function ready(election: Election): Promise<Election> {
  await election.ready;
  return election;
}

/** Stops the election when `close()` is called (see `attachPrimacy()`), and on 'close' for a server closed some other way. */
function releaseOnClose(server: Server, stop: () => Promise<void>): void {
  const close = server.close;
  server.close = function closeAndRelease(this: Server, callback?: (error?: Error) => void): Server {
    const released = stop();
    close.call(this, callback && ((error?: Error) => void released.then(() => callback(error))));
    return this;
  };
  server.on('close', () => void stop());
}

function checkApp(check: Checks, app: unknown): asserts app is Application {
  const ok =
    typeof app === 'function' && typeof (app as { locals?: unknown }).locals === 'object' && (app as { locals?: unknown }).locals !== null;
  if (!ok) check.fail('app', app, 'an Express application (express())');
}
