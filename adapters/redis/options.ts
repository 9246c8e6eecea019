import { type Checks, checksFor, optionKeys } from '../../src/adapter-kit.js';
import type { RedisClientLike, RedisLockOptions } from '../redis.js';
import type { ReplicaAcks } from './replicas.js';

/** What every Redis server of a lock is used with (the one of `redisLock`, each node of `redlockLock`), defaults applied. */
export interface ServerSettings {
  readonly prefix: string;
  readonly connectionBinding: boolean;
  readonly livenessInterval: number;
  readonly takeoverGrace: number;
}

export interface ResolvedRedisOptions extends ServerSettings {
  /** Exactly one of `client` and `url` is set. */
  readonly client: RedisClientLike | undefined;
  readonly url: string | undefined;
  /** 0: off. */
  readonly waitForReplicas: ReplicaAcks;
}

// The client itself is not checked for keys: it is the caller's object.
const KEYS = optionKeys<RedisLockOptions>({
  client: true,
  url: true,
  prefix: true,
  connectionBinding: true,
  livenessInterval: true,
  takeoverGrace: true,
  waitForReplicas: true,
});

/** The ioredis methods the lock calls on a caller's client. */
const CLIENT_METHODS = ['evalsha', 'eval', 'call', 'get', 'pttl', 'duplicate', 'on'];

/** Checks `redisLock()`'s options at construction; every error names the option, value and expectation. */
export function resolveRedisOptions(options: RedisLockOptions): ResolvedRedisOptions {
  const check = checksFor('redisLock()', 'redis');
  check.options(options, KEYS, '{ client } or { url }');
  const { client, url } = options;
  if ((client === undefined) === (url === undefined)) {
    check.fail('client', client, 'an ioredis client, or `url` instead (exactly one of them)');
  }
  if (client !== undefined) {
    // Named one by one: a wrong object (a node-redis client, a pool) is told what it lacks.
    const missing = CLIENT_METHODS.filter((m) => typeof (client as unknown as Record<string, unknown>)?.[m] !== 'function');
    if (missing.length > 0) check.fail('client', client, `an ioredis client (Redis, Cluster); missing ${missing.join(', ')}`);
  }
  if (url !== undefined && !isRedisUrl(url)) check.fail('url', url, 'a redis:// or rediss:// URL');
  const { waitForReplicas = 0 } = options;
  const replicas = waitForReplicas as unknown;
  if (replicas !== 'all' && !(Number.isInteger(replicas) && (replicas as number) >= 0 && (replicas as number) <= 1000)) {
    check.fail('waitForReplicas', replicas, "'all', or a whole number of replicas from 0 to 1000");
  }
  // The wait goes in a pipeline with the script, so it reaches the connection that ran it.
  if (client !== undefined && waitForReplicas !== 0 && typeof (client as { pipeline?: unknown }).pipeline !== 'function') {
    check.fail('client', client, 'an ioredis client (Redis, Cluster) with pipeline(), for waitForReplicas');
  }
  return { client, url, waitForReplicas, ...resolveServerSettings(check, options) };
}

/** The options `redisLock` and `redlockLock` share (per node for Redlock), checked and with their defaults. */
export function resolveServerSettings(check: Checks, options: Partial<Record<keyof ServerSettings, unknown>>): ServerSettings {
  const { prefix = 'primacy:' } = options;
  // Any string, the empty one too: keys are then `{<name>}:lock`.
  if (typeof prefix !== 'string') check.fail('prefix', prefix, 'a string');
  return {
    prefix: prefix as string,
    connectionBinding: check.flag('connectionBinding', options.connectionBinding, true),
    livenessInterval: check.number('livenessInterval', options.livenessInterval, 150, {
      min: 10,
      max: 60_000,
      expected: 'a number of ms from 10 to 60000',
    }),
    takeoverGrace: check.number('takeoverGrace', options.takeoverGrace, 50, {
      min: 0,
      max: 60_000,
      expected: 'a number of ms from 0 to 60000',
    }),
  };
}

export function isRedisUrl(url: unknown): boolean {
  return typeof url === 'string' && /^rediss?:\/\//.test(url);
}
