/**
 * `@PrimaryOnly()`: a method that runs only while this instance is primary. The decorator itself
 * knows no Election: the module binds each provider and controller instance that has such methods
 * to its app's elections when the app initialises (`onModuleInit`, through Nest's DiscoveryService),
 * so two Nest apps in one process (tests) each use their own. A call on an instance that was never
 * bound (made with `new`, request-scoped, PrimacyModule not imported) does not run: it fails closed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import { checksFor } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import { PrimacyError } from '../errors.js';
import type { PrimaryRun } from './cron.js';
import { DEFAULT_ELECTION_KEY } from './nestjs-options.js';

export type { PrimaryRun } from './cron.js';

/** Options of `@PrimaryOnly()`. */
export interface PrimaryOnlyOptions {
  /** The `key` of the election this method follows (see `PrimacyModule.forRoot({ key })`). @default 'default' */
  election?: string;
}

/** What a bound instance runs its guarded methods through (one per election of its app). */
export interface PrimaryGate {
  /** Runs `invoke` if this instance is primary now (with `primaryRun()` set), else returns undefined. */
  run(label: string, invoke: (run: PrimaryRun) => unknown): unknown;
}

/** A guarded method, as recorded on its class's prototype. */
export interface GuardedMethod {
  readonly method: string;
  readonly election: string;
}

/**
 * State shared by every copy of primacy loaded in the process (its ESM and CommonJS builds may
 * both be): a decorator from one copy must find the bindings made by the module of the other.
 */
interface SharedState {
  readonly gates: WeakMap<object, Map<string, PrimaryGate>>;
  readonly runs: AsyncLocalStorage<PrimaryRun>;
}
const STATE = Symbol.for('primacy.nestjs.state');
const GUARDED = Symbol.for('primacy.nestjs.guarded');
const slots = globalThis as Record<symbol, SharedState | undefined>;
const shared: SharedState = slots[STATE] ?? { gates: new WeakMap(), runs: new AsyncLocalStorage() };
slots[STATE] = shared;

const KEYS = optionKeys<PrimaryOnlyOptions>({ election: true });
const logger = new Logger('Primacy');
/** Unbound instances warned about once per method, not on every tick. */
const warnedUnbound = new WeakSet<object>();

/**
 * Runs the decorated method only while this instance is primary of the election (the default one,
 * or `election`'s); elsewhere the call returns `undefined` without running it (logged at debug
 * level once per follower stretch). Stack it with `@Cron()` / `@Interval()` from `@nestjs/schedule`,
 * in either order. Inside the method (and anything it awaits), `primaryRun()` gives the term's
 * fencing token and an AbortSignal that aborts when leadership is lost or the app shuts down; the
 * lock is released only after runs in flight have settled (bounded by the election's `stopTimeout`).
 */
export function PrimaryOnly(options: PrimaryOnlyOptions = {}): MethodDecorator {
  const check = checksFor('@PrimaryOnly()', 'nestjs');
  check.options(options, KEYS);
  const election = check.text('election', options.election, DEFAULT_ELECTION_KEY);
  const decorate = (target: object, property: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor => {
    const method = String(property);
    const original: unknown = descriptor.value;
    if (typeof target === 'function' || typeof original !== 'function') {
      return check.fail(method, original, 'an instance method (@PrimaryOnly() decorates methods, not static members, accessors or fields)');
    }
    const invoke = original as (...args: unknown[]) => unknown;
    const label = `${target.constructor.name}.${method}`;
    const guarded = function (this: object, ...args: unknown[]): unknown {
      const gate = shared.gates.get(this)?.get(election);
      if (gate === undefined) return unbound(this, label, election);
      return gate.run(label, () => invoke.apply(this, args));
    };
    Object.defineProperty(guarded, 'name', { value: invoke.name });
    copyMetadata(invoke, guarded); // @Cron/@Interval applied before this one put theirs on the original
    recordGuarded(target, { method, election });
    return { ...descriptor, value: guarded };
  };
  return decorate as MethodDecorator;
}

/**
 * The current guarded run: its fencing token (pass it to storage that can reject stale writers),
 * lease, and the signal that aborts when leadership ends. Call it inside a `@PrimaryOnly()` method
 * or anything it calls; elsewhere it throws.
 */
export function primaryRun(): PrimaryRun {
  const run = shared.runs.getStore();
  if (run === undefined) {
    throw new PrimacyError('ERR_PRIMACY_NO_RUN', '[primacy] [nestjs] primaryRun() was called outside a @PrimaryOnly() method');
  }
  return run;
}

/** Runs `invoke` with `run` as the current guarded run. */
export function withPrimaryRun<T>(run: PrimaryRun, invoke: () => T): T {
  return shared.runs.run(run, invoke);
}

/** The guarded methods of `instance`'s class (and its parents), or none. */
export function guardedMethods(instance: object): readonly GuardedMethod[] {
  return (instance as Record<symbol, GuardedMethod[] | undefined>)[GUARDED] ?? [];
}

/** Binds `instance`'s guarded methods that follow `key` to `gate`. */
export function bindInstance(instance: object, key: string, gate: PrimaryGate): void {
  const gates = shared.gates.get(instance) ?? new Map<string, PrimaryGate>();
  shared.gates.set(instance, gates.set(key, gate));
}

function unbound(instance: object, label: string, election: string): undefined {
  if (!warnedUnbound.has(instance)) {
    warnedUnbound.add(instance);
    logger.warn(
      `[primacy] [nestjs] ${label} did not run: its instance is bound to no election "${election}" ` +
        '(is PrimacyModule imported, with that key? was the instance made by Nest, not with `new`, and is it not request-scoped?)',
    );
  }
  return undefined;
}

function recordGuarded(prototype: object, entry: GuardedMethod): void {
  const slot = prototype as Record<symbol, GuardedMethod[] | undefined>;
  // An own list per class: a subclass's guarded methods must not leak into its parent's.
  if (!Object.hasOwn(prototype, GUARDED)) slot[GUARDED] = [...(slot[GUARDED] ?? [])];
  slot[GUARDED]?.push(entry);
}

/** Copies reflect-metadata (Nest's decorators store theirs there) from `from` to `to`. */
function copyMetadata(from: object, to: object): void {
  const reflect = Reflect as unknown as {
    getOwnMetadataKeys?(target: object): unknown[];
    getOwnMetadata(key: unknown, target: object): unknown;
    defineMetadata(key: unknown, value: unknown, target: object): void;
  };
  if (typeof reflect.getOwnMetadataKeys !== 'function') return; // no reflect-metadata: nothing to copy
  for (const key of reflect.getOwnMetadataKeys(from)) reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to);
}
