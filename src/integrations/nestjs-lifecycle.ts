/**
 * The Nest lifecycle of one election of one app: binds the app's `@PrimaryOnly()` instances
 * (`onModuleInit`), checks they name elections the app has and campaigns (`onApplicationBootstrap`),
 * and stops on shutdown. It stops in `onModuleDestroy`, the first hook of `app.close()` and of
 * `enableShutdownHooks()`' signal handling, so guarded runs are aborted and awaited while the app's
 * other providers (database clients closed in their own hooks) still work, and the next primary can
 * take over before this app has drained its HTTP connections; `beforeApplicationShutdown` awaits
 * the same stop.
 */
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { PrimacyConfigError } from '../errors.js';
import type { ElectionOptions } from '../options.js';
import { ElectionBinding } from './nestjs-binding.js';
import { bindInstance, guardedMethods } from './nestjs-primary-only.js';

/** The election keys registered in each app (by its DiscoveryService, one per app): a key twice is an error. */
const keysByApp = new WeakMap<DiscoveryService, Set<string>>();

export class PrimacyLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  readonly binding: ElectionBinding;
  readonly #discovery: DiscoveryService;

  constructor(options: ElectionOptions, key: string, discovery: DiscoveryService) {
    const keys = keysByApp.get(discovery) ?? new Set<string>();
    keysByApp.set(discovery, keys);
    if (keys.has(key)) {
      throw new PrimacyConfigError(
        'key',
        key,
        'unique among the PrimacyModule registrations of this app (a second election needs its own `key` and `name`)',
        'nestjs',
      );
    }
    keys.add(key);
    this.#discovery = discovery;
    this.binding = new ElectionBinding(options, key);
  }

  onModuleInit(): void {
    // Bound for the app's lifetime: after the stop, a late tick finds no term and is skipped.
    for (const instance of this.#guardedInstances()) bindInstance(instance, this.binding.key, this.binding);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Every module's onModuleInit has run by now: each guarded method's election must be bound.
    const keys = keysByApp.get(this.#discovery) ?? new Set();
    for (const instance of this.#guardedInstances()) {
      for (const { method, election } of guardedMethods(instance)) {
        if (!keys.has(election)) {
          const known = [...keys].map((key) => `'${key}'`).join(', ');
          throw new PrimacyConfigError(
            'election',
            election,
            `the key of a PrimacyModule registered in this app (${known || 'none is'}), in @PrimaryOnly() of ${instance.constructor.name}.${method}`,
            'nestjs',
          );
        }
      }
    }
    await this.binding.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.binding.stop();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.binding.stop();
  }

  /** Static provider and controller instances with `@PrimaryOnly()` methods. */
  *#guardedInstances(): Generator<object> {
    for (const wrapper of [...this.#discovery.getControllers(), ...this.#discovery.getProviders()]) {
      const instance: unknown = wrapper.instance;
      if (typeof instance !== 'object' || instance === null || !wrapper.isDependencyTreeStatic()) continue;
      if (guardedMethods(instance).length > 0) yield instance;
    }
  }
}
