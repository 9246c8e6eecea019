/**
 * A managed process's side of requests between processes: sending one by name (`worker.request()`)
 * and answering them (`worker.onRequest()`). The manager routes both ways (see message-router.ts)
 * and owns the timeout; this side keeps a backstop so a request settles even if the manager never
 * answers.
 */
import { checksFor, MAX_DELAY } from '../_internal/checks.js';
import { PrimacyError } from '../errors.js';
import { isManaged, isPrimacyMessage, type ManagerMessage, type WorkerMessage } from './protocol.js';
import { DEFAULT_REQUEST_TIMEOUT, PrimacyRequestError, REQUEST_FAILURES, type RequestFailure } from './request-error.js';

/** Who sent a request, as the manager knows it (not as the sender claims). */
export interface RequestSender {
  /** Its slot name: `worker-0`, `jobs`, `jobs-1`... */
  readonly name: string;
  readonly pid: number;
}

/** Answers requests sent to this process; its result (JSON-serialisable) is the reply, a throw the sender's error. */
export type RequestHandler = (payload: unknown, from: RequestSender) => unknown | Promise<unknown>;

export interface RequestOptions {
  /** How long to wait for the reply, in ms. @default 30000 */
  timeout?: number;
}

/** How much longer than `timeout` this side waits for the manager's own timeout reply before giving up on it. */
const BACKSTOP_MS = 5000;
/**
 * The bootstrap acks a custom process as it loads, before the app's module has run (compiling it
 * can take seconds on a busy machine): a request may arrive before the handler is registered. A
 * process younger than this that has never had one waits for it rather than answer "no handler".
 */
const STARTUP_GRACE_MS = 10_000;

interface Registry {
  handler: RequestHandler | null;
  /** A handler was registered at some point: the app's module has run, no grace any more. */
  registered: boolean;
  /** Deliveries waiting (within the start-up grace) for a handler. */
  readonly waiting: Set<() => void>;
}

// On globalThis, so the bootstrap (which answers deliveries) and the app's copy of this library
// (where `worker.onRequest()` is called) share one handler even when they are separate bundles.
const REGISTRY = Symbol.for('primacy.requestHandler');
function registry(): Registry {
  const scope = globalThis as { [REGISTRY]?: Registry };
  scope[REGISTRY] ??= { handler: null, registered: false, waiting: new Set() };
  return scope[REGISTRY];
}

/** Registers this process's one request handler; returns the function that removes it. */
export function onRequest(handler: RequestHandler): () => void {
  if (typeof handler !== 'function')
    checksFor('worker.onRequest()', 'request').fail('handler', handler, 'a function (payload, from) => reply');
  const shared = registry();
  if (shared.handler !== null) {
    throw new PrimacyError(
      'ERR_PRIMACY_REQUEST',
      '[primacy] [request] this process already has a request handler (one per process): call the function worker.onRequest() returned to remove it first',
    );
  }
  shared.handler = handler;
  shared.registered = true;
  for (const wake of shared.waiting) wake();
  return () => {
    if (shared.handler === handler) shared.handler = null;
  };
}

interface Pending {
  readonly target: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly backstop: NodeJS.Timeout;
}

const pending = new Map<number, Pending>();
let nextId = 1;
let listening = false;

/** Sends `payload` to the managed process named `target` and resolves with its handler's reply. */
export function request(target: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
  let timeout: number;
  try {
    const check = checksFor('worker.request()', 'request');
    if (typeof target !== 'string' || target === '') check.fail('target', target, 'a process name (worker-0, or a custom process name)');
    check.options(options, ['timeout']);
    timeout = check.number('timeout', options.timeout, DEFAULT_REQUEST_TIMEOUT, { min: 1, max: MAX_DELAY, whole: true });
    checkSerialisable(check.fail, payload);
  } catch (error) {
    return Promise.reject(error);
  }
  if (!isManaged() || !process.connected) {
    return Promise.reject(
      new PrimacyRequestError(target, 'not-managed', `cannot ask ${target}: this process is not run by the primacy manager`),
    );
  }
  listen();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const backstop = setTimeout(() => {
      pending.delete(id);
      reject(new PrimacyRequestError(target, 'timeout', `no reply from ${target} within ${timeout} ms (nor from the manager)`));
    }, timeout + BACKSTOP_MS);
    pending.set(id, { target, resolve, reject, backstop });
    process.send?.({ primacy: 'request', id, target, payload, timeout } satisfies WorkerMessage);
  });
}

function checkSerialisable(fail: (option: string, value: unknown, expected: string) => never, payload: unknown): void {
  try {
    JSON.stringify(payload);
  } catch (error) {
    fail('payload', payload, `a JSON-serialisable value (${(error as Error).message})`);
  }
}

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (message: unknown) => {
    if (!isPrimacyMessage(message) || message.primacy !== 'request-reply') return;
    const m = message as Extract<ManagerMessage, { primacy: 'request-reply' }>;
    const entry = pending.get(m.id);
    if (!entry) return;
    pending.delete(m.id);
    clearTimeout(entry.backstop);
    if (m.ok === true) entry.resolve(m.result);
    else entry.reject(new PrimacyRequestError(entry.target, failure(m.reason), String(m.error)));
  });
  // The manager is gone (the bootstrap exits this process on it): nothing will answer.
  process.on('disconnect', () => {
    for (const [id, entry] of pending) {
      pending.delete(id);
      clearTimeout(entry.backstop);
      entry.reject(new PrimacyRequestError(entry.target, 'not-managed', `the manager went away before ${entry.target} replied`));
    }
  });
}

function failure(reason: unknown): RequestFailure {
  return REQUEST_FAILURES.includes(reason as RequestFailure) ? (reason as RequestFailure) : 'handler-error';
}

/** Installed by the bootstrap in every managed process: every delivery gets exactly one answer. */
export function answerRequests(): void {
  process.on('message', (message: unknown) => {
    if (!isPrimacyMessage(message) || message.primacy !== 'request-deliver') return;
    void answer(message as Extract<ManagerMessage, { primacy: 'request-deliver' }>);
  });
}

async function answer(m: Extract<ManagerMessage, { primacy: 'request-deliver' }>): Promise<void> {
  const send = (fields: Omit<Extract<WorkerMessage, { primacy: 'request-answer' }>, 'primacy' | 'id'>) => {
    if (!process.connected) return;
    try {
      process.send?.({ primacy: 'request-answer', id: m.id, ...fields } satisfies WorkerMessage);
    } catch (error) {
      // JSON serialisation failed (a BigInt, a cycle): the sender still hears why.
      process.send?.({ primacy: 'request-answer', id: m.id, ok: false, error: `its reply cannot be sent: ${(error as Error).message}` });
    }
  };
  const handler = await handlerWithinGrace();
  if (!handler) return send({ ok: false, noHandler: true });
  try {
    send({ ok: true, result: await handler(m.payload, m.from) });
  } catch (error) {
    send({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}

/** The handler, waiting for one only while this process is young enough not to have registered it yet. */
async function handlerWithinGrace(): Promise<RequestHandler | null> {
  const shared = registry();
  const left = STARTUP_GRACE_MS - performance.now();
  if (shared.handler !== null || shared.registered || left <= 0) return shared.handler;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      shared.waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, left);
    shared.waiting.add(done);
  });
  return shared.handler;
}
