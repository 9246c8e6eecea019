/**
 * Whether the server may evict the lock's keys. Under `maxmemory` with any policy but `noeviction`
 * Redis can drop a live holder's key (`volatile-*` picks keys with a TTL, as the lock's is;
 * `allkeys-*` any key), which a follower cannot tell from expiry. Asked once per connection;
 * where `CONFIG` is refused (managed services), the answer is "may evict", the safe side.
 */
import type { AdapterCallContext } from '../../src/adapter.js';
import { type CommandClient, isRefusal } from './connection.js';

export class EvictionCheck {
  #answer: Promise<boolean> | undefined;
  #warned = new Set<string>();

  constructor(private readonly client: CommandClient) {
    // A reconnect may be to a restarted server with another configuration.
    client.on('close', () => {
      this.#answer = undefined;
    });
  }

  /** True unless the server says it never evicts (no `maxmemory`, or `noeviction`). */
  mayEvict(context?: AdapterCallContext): Promise<boolean> {
    this.#answer ??= this.#ask(context);
    return this.#answer;
  }

  async #ask(context?: AdapterCallContext): Promise<boolean> {
    let policy: string;
    let maxmemory: number;
    try {
      policy = configValue(await this.client.call('CONFIG', 'GET', 'maxmemory-policy'));
      maxmemory = Number(configValue(await this.client.call('CONFIG', 'GET', 'maxmemory')));
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      // A dropped connection is asked again on the next one; a refusal is the answer "unknown".
      if (!isRefusal(message)) {
        this.#answer = undefined;
        return true;
      }
      this.#warnOnce(
        'refused',
        context,
        `[primacy] [redis] the server refuses CONFIG GET (${message}), so primacy cannot tell whether it evicts keys: a lock key that vanishes without a release is treated as lost state, and its holder's TTL is waited out before anyone takes over. Run Redis with maxmemory-policy noeviction for the lock.`,
      );
      return true;
    }
    if (policy === 'noeviction' || !(maxmemory > 0)) return false;
    this.#warnOnce(
      policy,
      context,
      `[primacy] [redis] this Redis may evict the lock under a live holder (maxmemory ${maxmemory} bytes, maxmemory-policy ${policy}): a vanished lock key is then treated as lost state and its holder's TTL is waited out before anyone takes over. Use a Redis with maxmemory-policy noeviction for locks.`,
    );
    return true;
  }

  #warnOnce(key: string, context: AdapterCallContext | undefined, message: string): void {
    if (this.#warned.has(key) || !context?.warn) return;
    this.#warned.add(key);
    context.warn(message);
  }
}

/** `CONFIG GET x` answers `[x, value]` (RESP2) or `{ x: value }` (RESP3 maps through ioredis). */
function configValue(reply: unknown): string {
  if (Array.isArray(reply)) return String(reply[1] ?? '');
  if (reply && typeof reply === 'object') return String(Object.values(reply)[0] ?? '');
  return '';
}
