import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import { checksFor } from '../_internal/checks.js';
import { optionKeys } from '../_internal/unknown-keys.js';
import { ELECTION_OPTION_KEYS, type ElectionOptions, resolveOptions } from '../options.js';

/** The key of the election `forRoot()` registers when none is given. */
export const DEFAULT_ELECTION_KEY = 'default';

/**
 * The injection token of the app's (default) Election: `@Inject(PRIMACY_ELECTION)`, or
 * `@InjectElection()`. A string, not a Symbol, so the ESM and CommonJS builds of primacy agree on it.
 */
export const PRIMACY_ELECTION = 'primacy:election';

/** The injection token of the election registered under `key` (`PRIMACY_ELECTION` for the default). */
export function getElectionToken(key: string = DEFAULT_ELECTION_KEY): string {
  return key === DEFAULT_ELECTION_KEY ? PRIMACY_ELECTION : `${PRIMACY_ELECTION}:${key}`;
}

/** What the module adds to `elect()`'s options. */
export interface PrimacyModuleSettings {
  /**
   * Which election of the app this is, for an app with more than one (each with its own lock
   * `name`): inject it with `@InjectElection(key)`, guard methods with `@PrimaryOnly({ election: key })`.
   * @default 'default'
   */
  key?: string;
}

/**
 * `PrimacyModule.forRoot()`'s options: `elect()`'s options (`name` required; `logger` defaults to a
 * Nest `Logger` with the context `Primacy`) plus the module's settings.
 */
export type PrimacyModuleOptions = ElectionOptions & PrimacyModuleSettings;

/** `PrimacyModule.forRootAsync()`'s options: the election's options come from `useFactory`. */
export interface PrimacyModuleAsyncOptions extends PrimacyModuleSettings {
  /** Modules whose providers `useFactory` injects (`ConfigModule`). */
  imports?: ModuleMetadata['imports'];
  /** Tokens whose values `useFactory` receives, in order. */
  inject?: FactoryProvider['inject'];
  /** Returns `elect()`'s options (`name` required). `key` is not among them: tokens are fixed before it runs. */
  // biome-ignore lint/suspicious/noExplicitAny: the injected values are whatever `inject` names, as in Nest's own FactoryProvider.
  useFactory: (...args: any[]) => ElectionOptions | Promise<ElectionOptions>;
}

const SETTINGS_KEYS = optionKeys<PrimacyModuleSettings>({ key: true });
const ASYNC_KEYS = optionKeys<PrimacyModuleAsyncOptions>({ key: true, imports: true, inject: true, useFactory: true });

/** Checks `forRoot()`'s options at the call (so a bad option fails where it was written); returns the key. */
export function checkModuleOptions(options: PrimacyModuleOptions): string {
  const call = 'PrimacyModule.forRoot()';
  const check = checksFor(call, 'nestjs');
  check.options(options, [...ELECTION_OPTION_KEYS, ...SETTINGS_KEYS], 'an object with at least `name`');
  const key = check.text('key', options.key, DEFAULT_ELECTION_KEY);
  checkElectionOptions(electionOptionsOf(options), call);
  return key;
}

/** Checks `forRootAsync()`'s own options (the factory's result is checked when it resolves); returns the key. */
export function checkAsyncOptions(options: PrimacyModuleAsyncOptions): string {
  const check = checksFor('PrimacyModule.forRootAsync()', 'nestjs');
  check.options(options, ASYNC_KEYS, 'an object with `useFactory`');
  const key = check.text('key', options.key, DEFAULT_ELECTION_KEY);
  if (typeof options.useFactory !== 'function') check.fail('useFactory', options.useFactory, 'a function returning the election options');
  if (options.inject !== undefined && !Array.isArray(options.inject)) check.fail('inject', options.inject, 'an array of tokens');
  if (options.imports !== undefined && !Array.isArray(options.imports)) check.fail('imports', options.imports, 'an array of modules');
  return key;
}

/** Checks what `useFactory` resolved to. `key` there is an error, not silently ignored. */
export function checkFactoryResult(options: unknown): ElectionOptions {
  const call = 'PrimacyModule.forRootAsync() useFactory';
  const check = checksFor(call, 'nestjs');
  if (typeof options === 'object' && options !== null && 'key' in options) {
    check.fail('key', (options as { key: unknown }).key, "absent from useFactory's result (give `key` to forRootAsync() itself)");
  }
  check.options(options as ElectionOptions, ELECTION_OPTION_KEYS, 'an object with at least `name` (returned by useFactory)');
  checkElectionOptions(options as ElectionOptions, call);
  return options as ElectionOptions;
}

function checkElectionOptions(options: ElectionOptions, call: string): void {
  const { name } = options;
  if (typeof name !== 'string' || name === '') {
    checksFor(call, 'nestjs').fail('name', name, 'the lock name every instance of this app campaigns for (a non-empty string)');
  }
  resolveOptions(options, call); // throws on the first bad option, naming it
}

/** Only `elect()`'s own keys. */
export function electionOptionsOf(options: PrimacyModuleOptions): ElectionOptions {
  const picked: Record<string, unknown> = {};
  for (const key of ELECTION_OPTION_KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as unknown as ElectionOptions;
}
