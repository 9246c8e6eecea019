/**
 * etcd3's own leader election, as its README documents it: `client.election(name, ttl)
 * .campaign(id)`; `elected` fires when this candidate leads. Each candidate's key is on a lease of
 * its own (etcd3 keeps it alive every ttl/3): candidates queue by the key's creation revision and
 * each waits for the deletion of the key before its own, so a crashed leader is replaced once etcd
 * expires its lease (bounded by the TTL), a resigned one at once. A campaign `error` (its lease lost)
 * reports `lost`. SIGTERM: stop acting as leader, `campaign.resign()` (revokes the lease), exit.
 * argv: <election name> <etcd url> <ttl s>.
 */
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { emit } from './emit.js';

const [name, url, ttlArg] = process.argv.slice(2);
const ttl = Number(ttlArg);
if (!name || !url || !ttl) throw new Error('usage: etcd3-election.ts <election name> <etcd url> <ttl s>');

const client = new Etcd3({ hosts: url });
const campaign = client.election(name, ttl).campaign(randomUUID());
let leading = false;
let stopping = false;

campaign.on('elected', () => {
  if (stopping) return;
  leading = true;
  emit('acquired');
});
campaign.on('error', (error: Error) => {
  if (leading) {
    leading = false;
    emit('lost', error.message);
  }
  if (!stopping) emit('error', `campaign: ${error.message}`);
});

process.on('SIGTERM', async () => {
  stopping = true;
  if (leading) {
    leading = false;
    // The term ends when we stop acting as leader, just before the release (as primacy's 'revoked').
    emit('released');
  }
  try {
    await campaign.resign();
  } catch (error) {
    emit('error', `resign: ${(error as Error).message}`);
  }
  client.close();
  process.exit(0);
});

// The lease is granted before the campaign's key is written: from then on the campaign is under way.
await campaign.getCampaignKey();
emit('ready');
