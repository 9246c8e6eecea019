/**
 * A primacy contender on a Redlock quorum with the defaults: `elect()` on `redlockLock({ urls })`
 * (ttl 10 s, retryInterval 1 s; per node, followers watch the holder's connection every 150 ms and
 * wake on the PUBLISH of a release; SIGTERM releases on every node, then exits).
 * argv: <lock name> <redis url>,<redis url>,... (independent nodes).
 */
import { redlockLock } from '../../adapters/redlock.js';
import { elect } from '../../src/index.js';
import { emit } from './emit.js';

const [name, urls] = process.argv.slice(2);
if (!name || !urls) throw new Error('usage: primacy-redlock.ts <lock name> <url,url,...>');

const election = elect({ name, lock: redlockLock({ urls: urls.split(',') }) });
election.on('elected', (lease) => emit('acquired', `token ${lease.token}`));
election.on('revoked', ({ reason }) => emit(reason === 'stopped' ? 'released' : 'lost', reason));
election.on('error', (error) => emit('error', error instanceof Error ? error.message : String(error)));
await election.ready;
emit('ready');
