/**
 * Requests between managed processes, routed by name through the manager (`worker.request()` ->
 * here -> the target's `worker.onRequest()` handler -> here -> the sender). A target is a slot name
 * (`worker-0`, `jobs`) or a group of custom processes (`jobs` for `jobs-0`, `jobs-1`: one of them,
 * round robin). The manager keeps every request in flight until it is answered, times out, or one
 * of its two ends exits, so the sender always hears back and nothing is left behind.
 */
import type { Incarnation, Slot } from './incarnation.js';
import type { ManagerMessage, WorkerMessage } from './protocol.js';
import { DEFAULT_REQUEST_TIMEOUT, type RequestFailure } from './request-error.js';

export type RequestMessage = Extract<WorkerMessage, { primacy: 'request' | 'request-answer' }>;
type Outcome = { ok: true; result: unknown } | { ok: false; reason: RequestFailure; error: string };

export interface RouterPeers {
  /** Every slot: server workers, then custom processes. */
  slots(): Slot[];
  /** Every process that has not exited (during a restart, a slot's old one too). */
  live(): Iterable<Incarnation>;
  send(incarnation: Incarnation, message: ManagerMessage): void;
}

interface InFlight {
  readonly sender: Incarnation;
  /** The sender's own id for it (unique in the sender only). */
  readonly senderId: number;
  readonly target: Incarnation;
  readonly timer: NodeJS.Timeout;
}

const MAX_TIMEOUT = 2_147_483_647;

export class MessageRouter {
  /** By the id the manager gave the delivery (senders' ids may collide). */
  readonly #inFlight = new Map<number, InFlight>();
  /** Round robin per group name: how many requests the group was given. */
  readonly #turns = new Map<string, number>();
  #nextId = 1;
  #stopping = false;

  constructor(private readonly peers: RouterPeers) {}

  get size(): number {
    return this.#inFlight.size;
  }

  /** A `request` or `request-answer` from `from`. Garbage is ignored; it never throws. */
  receive(from: Incarnation, message: RequestMessage): void {
    if (!Number.isSafeInteger(message.id)) return; // nobody to answer: a malformed message
    if (message.primacy === 'request') this.#request(from, message);
    else if (message.primacy === 'request-answer') this.#answer(from, message);
  }

  /** A process exited: its own requests are dropped, the ones it was handling fail for their senders. */
  exited(incarnation: Incarnation): void {
    for (const [id, entry] of this.#inFlight) {
      if (entry.sender === incarnation) this.#forget(id, entry);
      else if (entry.target === incarnation) {
        this.#settle(id, { ok: false, reason: 'exited', error: `${describe(entry.target)} exited before replying` });
      }
    }
  }

  /** The manager is stopping: no new request is routed, and the ones in flight fail now. */
  stop(): void {
    this.#stopping = true;
    for (const [id, entry] of this.#inFlight) {
      this.#settle(id, { ok: false, reason: 'unavailable', error: `the manager stopped before ${describe(entry.target)} replied` });
    }
  }

  #request(sender: Incarnation, m: Extract<RequestMessage, { primacy: 'request' }>): void {
    const route = this.#stopping
      ? { reason: 'unavailable' as const, error: `the manager is stopping: ${String(m.target)} was not asked` }
      : this.#route(m.target);
    if ('reason' in route) {
      this.#reply(sender, m.id, { ok: false, ...route });
      return;
    }
    const { target } = route;
    const timeout = Number.isSafeInteger(m.timeout) && m.timeout >= 1 && m.timeout <= MAX_TIMEOUT ? m.timeout : DEFAULT_REQUEST_TIMEOUT;
    const id = this.#nextId++;
    const timer = setTimeout(
      () => this.#settle(id, { ok: false, reason: 'timeout', error: `no reply from ${describe(target)} within ${timeout} ms` }),
      timeout,
    );
    this.#inFlight.set(id, { sender, senderId: m.id, target, timer });
    // The sender as the manager knows it: a process cannot pass itself off as another.
    const from = { name: sender.slot.name, pid: sender.pid ?? 0 };
    this.peers.send(target, { primacy: 'request-deliver', id, from, payload: m.payload });
  }

  #answer(from: Incarnation, m: Extract<RequestMessage, { primacy: 'request-answer' }>): void {
    const entry = this.#inFlight.get(m.id);
    // Late (timed out, or its sender exited), or not delivered to this process: not its to answer.
    if (!entry || entry.target !== from) return;
    const who = describe(entry.target);
    if (m.ok === true) this.#settle(m.id, { ok: true, result: m.result });
    else if (m.noHandler === true) {
      this.#settle(m.id, { ok: false, reason: 'no-handler', error: `${who} has no request handler (it never called worker.onRequest())` });
    } else this.#settle(m.id, { ok: false, reason: 'handler-error', error: `${who}'s handler failed: ${String(m.error)}` });
  }

  /** The process to deliver to, or why there is none. */
  #route(name: unknown): { target: Incarnation } | { reason: RequestFailure; error: string } {
    if (typeof name !== 'string' || name === '')
      return { reason: 'unknown-target', error: `expected a target name, got ${JSON.stringify(name)}` };
    const slots = this.peers.slots();
    const exact = slots.find((slot) => slot.name === name);
    const members = exact ? [exact] : slots.filter((slot) => isMember(slot, name));
    if (members.length === 0)
      return { reason: 'unknown-target', error: `no process named ${JSON.stringify(name)} (known: ${known(slots)})` };
    const live = [...this.peers.live()];
    const ready = members.flatMap((slot) => {
      const candidates = live.filter((i) => i.slot === slot && i.state === 'ACKED' && !i.draining && i.alive && i.worker.isConnected());
      // The slot's current process first; during a zero-downtime restart, the old one until the new one acks.
      const current = candidates.find((i) => i === slot.current);
      return current ? [current] : candidates.slice(0, 1);
    });
    if (ready.length === 0) {
      const states = members.map((slot) => (exact ? stateOf(slot) : `${slot.name} ${stateOf(slot)}`)).join(', ');
      return { reason: 'unavailable', error: `${name} has no live process to take the request (${states}); retry later` };
    }
    const turn = this.#turns.get(name) ?? 0;
    this.#turns.set(name, turn + 1);
    return { target: ready[turn % ready.length] as Incarnation };
  }

  #settle(id: number, outcome: Outcome): void {
    const entry = this.#inFlight.get(id);
    if (!entry) return;
    this.#forget(id, entry);
    this.#reply(entry.sender, entry.senderId, outcome);
  }

  #forget(id: number, entry: InFlight): void {
    clearTimeout(entry.timer);
    this.#inFlight.delete(id);
  }

  #reply(sender: Incarnation, senderId: number, outcome: Outcome): void {
    // A reply to a process that has just exited is lost harmlessly (its exit drops its entries).
    this.peers.send(sender, { primacy: 'request-reply', id: senderId, ...outcome });
  }
}

/** Each manager's router, for `requestsInFlight`. */
const routers = new WeakMap<object, MessageRouter>();

/** The router of `owner` (a manager). */
export function routerFor(owner: object, peers: RouterPeers): MessageRouter {
  const router = new MessageRouter(peers);
  routers.set(owner, router);
  return router;
}

/** For tests and diagnostics: how many requests `manager` is waiting on (0 once every one has settled). */
export function requestsInFlight(manager: object): number {
  const router = routers.get(manager);
  if (!router) throw new TypeError('requestsInFlight() expects a WorkerManager');
  return router.size;
}

/** `jobs-1` is a member of the group `jobs` (custom processes started with `workers` > 1). */
function isMember(slot: Slot, group: string): boolean {
  return slot.custom !== undefined && slot.name.startsWith(`${group}-`) && /^\d+$/.test(slot.name.slice(group.length + 1));
}

/** The slot's names, with each group of custom processes listed as `jobs (jobs-0, jobs-1)`. */
function known(slots: Slot[]): string {
  const groups = new Map<string, string[]>();
  for (const slot of slots) {
    const group = slot.custom ? /^(.+)-\d+$/.exec(slot.name)?.[1] : undefined;
    const key = group ?? slot.name;
    groups.set(key, [...(groups.get(key) ?? []), slot.name]);
  }
  const names = [...groups].map(([key, members]) => (members.length === 1 && members[0] === key ? key : `${key} (${members.join(', ')})`));
  return names.join(', ') || 'none';
}

function stateOf(slot: Slot): string {
  const current = slot.current;
  if (!current) return slot.state;
  return current.draining ? 'STOPPING' : current.state;
}

function describe(incarnation: Incarnation): string {
  return `${incarnation.slot.name} (pid ${incarnation.pid})`;
}
