/**
 * A primacy contender on Redis exactly as a user would write it with the defaults: `elect()` on
 * `redisLock({ url })` (ttl 10 s, retryInterval 1 s; a waiting follower checks the holder's
 * connection every 150 ms and wakes on the PUBLISH of a release; handleSignals true, so SIGTERM
 * releases the lock, then the signal is re-raised and the process exits).
 * argv: <lock name> <redis url>.
 */
import { redisLock } from '../../adapters/redis.js';
import { elect } from '../../src/index.js';
import { emit } from './emit.js';

const [name, url] = process.argv.slice(2);
if (!name || !url) throw new Error('usage: primacy-redis.ts <lock name> <redis url>');

const election = elect({ name, lock: redisLock({ url }) });
election.on('elected', (lease) => emit('acquired', `token ${lease.token}`));
// As in primacy-file.ts: 'revoked' is stamped when isPrimary already reads false.
election.on('revoked', ({ reason }) => emit(reason === 'stopped' ? 'released' : 'lost', reason));
election.on('error', (error) => emit('error', error instanceof Error ? error.message : String(error)));
await election.ready;
emit('ready');
