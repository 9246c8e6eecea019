/**
 * A primacy contender exactly as a user would write it with the defaults: `elect()` on a file lock
 * (ttl 10 s, retryInterval 1 s, handleSignals true, so SIGTERM releases the lock, then the signal
 * is re-raised and the process exits). argv: <lock dir> <lock name>.
 */
import { elect, fileLock } from '../../src/index.js';
import { emit } from './emit.js';

const [dir, name] = process.argv.slice(2);
if (!dir || !name) throw new Error('usage: primacy-file.ts <lock dir> <lock name>');

const election = elect({ name, lock: fileLock({ dir }) });
election.on('elected', (lease) => emit('acquired', `token ${lease.token}`));
// 'revoked' ends the term: isPrimary already reads false there (on stop it comes just before the
// release), so its stamp is when this process stopped believing it was primary.
election.on('revoked', ({ reason }) => emit(reason === 'stopped' ? 'released' : 'lost', reason));
election.on('error', (error) => emit('error', error instanceof Error ? error.message : String(error)));
await election.ready;
emit('ready');
