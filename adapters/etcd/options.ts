import { checksFor, optionKeys } from '../../src/adapter-kit.js';
import type { EtcdClientLike, EtcdLockOptions } from '../etcd.js';

export interface ResolvedEtcdOptions {
  /** Exactly one of `client` and `hosts` is set. */
  readonly client: EtcdClientLike | undefined;
  readonly hosts: readonly string[] | undefined;
  readonly prefix: string;
  readonly callTimeout: number;
  readonly idleRetry: number;
}

// The client itself is not checked for keys: it is the caller's object.
const KEYS = optionKeys<EtcdLockOptions>({ client: true, hosts: true, prefix: true, callTimeout: true, idleRetry: true });

/** Checks `etcdLock()`'s options at construction; every error names the option, value and expectation. */
export function resolveEtcdOptions(options: EtcdLockOptions): ResolvedEtcdOptions {
  const check = checksFor('etcdLock()', 'etcd');
  check.options(options, KEYS, '{ client } or { hosts }');
  const { client, hosts, prefix = 'primacy/' } = options;
  if ((client === undefined) === (hosts === undefined)) {
    check.fail('client', client, 'an Etcd3 client, or `hosts` instead (exactly one of them)');
  }
  if (client !== undefined) {
    // Named one by one: a wrong object (an etcd v2 client, a gRPC stub) is told what it lacks.
    const c = client as unknown as Record<string, Record<string, unknown> | undefined>;
    const missing = [
      typeof c?.kv?.txn === 'function' ? '' : 'kv.txn',
      typeof c?.leaseClient?.leaseGrant === 'function' ? '' : 'leaseClient.leaseGrant',
      typeof c?.watch === 'function' ? '' : 'watch',
      Buffer.isBuffer(c?.prefix) ? '' : 'prefix',
    ].filter(Boolean);
    if (missing.length > 0)
      check.fail('client', client, `an Etcd3 client from etcd3 (or a namespace of one); missing ${missing.join(', ')}`);
  }
  let urls: string[] | undefined;
  if (hosts !== undefined) {
    urls = typeof hosts === 'string' ? [hosts] : Array.isArray(hosts) ? [...hosts] : [];
    const expected = 'an http:// or https:// URL, or a non-empty array of them (all http:// or all https://)';
    if (urls.length === 0 || !urls.every((url) => typeof url === 'string' && /^https?:\/\/[^/\s]+\/?$/.test(url))) {
      check.fail('hosts', hosts, expected);
    }
    if (new Set(urls.map((url) => url.startsWith('https:'))).size > 1) check.fail('hosts', hosts, expected);
  }
  // Any string, the empty one too: keys are then `<name>/lock`.
  if (typeof prefix !== 'string') check.fail('prefix', prefix, 'a string');
  return {
    client,
    hosts: urls,
    prefix,
    callTimeout: check.number('callTimeout', options.callTimeout, 2000, {
      min: 100,
      max: 60_000,
      expected: 'a number of ms from 100 to 60000',
    }),
    idleRetry: check.number('idleRetry', options.idleRetry, 30_000, {
      min: 1000,
      max: 60_000,
      expected: 'a number of ms from 1000 to 60000',
    }),
  };
}
