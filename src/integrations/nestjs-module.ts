import { type DynamicModule, Inject, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import type { ElectionOptions } from '../options.js';
import { PrimacyLifecycle } from './nestjs-lifecycle.js';
import {
  checkAsyncOptions,
  checkFactoryResult,
  checkModuleOptions,
  electionOptionsOf,
  getElectionToken,
  type PrimacyModuleAsyncOptions,
  type PrimacyModuleOptions,
} from './nestjs-options.js';

/**
 * The NestJS module (`primacy/nestjs`): one election per registration, global, injected as
 * `PRIMACY_ELECTION` (`@InjectElection()`). The Election exists from the start (inject it anywhere,
 * subscribe to its events in a constructor) but campaigns only on `onApplicationBootstrap`, so a
 * half-booted app never becomes primary; it stops on shutdown (`app.close()`, or a signal with
 * `app.enableShutdownHooks()`): `@PrimaryOnly()` runs are aborted and awaited, then the lock is released.
 * `isPrimary` is meaningful once `app.init()` / `app.listen()` has resolved (the first real round is
 * over by then); `election.ready` resolves earlier, after a round held back before bootstrap.
 *
 * Written without decorator syntax, so it needs no compiler setting from the app or from our build.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes with static forRoot()/forRootAsync().
export class PrimacyModule {
  /** Registers an election with `elect()`'s options (`name` required), checked here. */
  static forRoot(options: PrimacyModuleOptions): DynamicModule {
    const key = checkModuleOptions(options);
    return electionModule(key, [], { provide: optionsToken(key), useValue: electionOptionsOf(options) });
  }

  /** Registers an election whose options come from `useFactory` (with `inject` and `imports`, as Nest's own async modules). */
  static forRootAsync(options: PrimacyModuleAsyncOptions): DynamicModule {
    const key = checkAsyncOptions(options);
    const { useFactory, inject = [], imports = [] } = options;
    return electionModule(key, imports, {
      provide: optionsToken(key),
      useFactory: async (...args: unknown[]) => checkFactoryResult(await useFactory(...args)),
      inject,
    });
  }
}
Module({})(PrimacyModule);

/**
 * Injects the election registered under `key` (the default one without it): the parameter
 * decorator form of `@Inject(getElectionToken(key))`. Explicit, so it works where the compiler
 * emits no decorator metadata (esbuild, tsx, Vite).
 */
export function InjectElection(key?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getElectionToken(key));
}

const optionsToken = (key: string) => `primacy:options:${key}`;

function electionModule(key: string, imports: NonNullable<DynamicModule['imports']>, options: Provider): DynamicModule {
  const lifecycle = `primacy:lifecycle:${key}`;
  return {
    module: PrimacyModule,
    global: true,
    imports: [DiscoveryModule, ...imports],
    providers: [
      options,
      {
        provide: lifecycle,
        useFactory: (resolved: ElectionOptions, discovery: DiscoveryService) => new PrimacyLifecycle(resolved, key, discovery),
        inject: [optionsToken(key), DiscoveryService],
      },
      { provide: getElectionToken(key), useFactory: (owner: PrimacyLifecycle) => owner.binding.election, inject: [lifecycle] },
    ],
    exports: [getElectionToken(key)],
  };
}
