/**
 * The server cuts the primary's connection (Redis and Redlock): `reset-in-flight` with its renew in
 * flight, `client-kill-busy-primary` while its event loop is blocked. Both go through an admin
 * connection to the nodes that hold the primary's lease, found by reading the lock key.
 */

import { hostNow } from '../harness/clock.js';
import type { Hit } from './hit.js';
import { redisKey } from './inject-backend.js';
import type { Member } from './recorder.js';

interface Holding {
  node: number;
  /** The holder's `CLIENT ID` on that node. */
  clientId: string;
}

/**
 * The nodes whose lock value carries the primary's token, with the client id recorded in it. A
 * value is `<token>|<holder id>|<client id>@<run_id>|<json>` (adapters/redis/record.ts); a node that
 * does not answer, or records no client (`-`), is left out.
 */
async function holdings(hit: Hit, primary: Member): Promise<Holding[]> {
  const { backend, recorder, lockName } = hit.deps;
  const token = recorder.tokenOf(primary.pid);
  const found: Holding[] = [];
  for (let node = 0; node < backend.nodes; node++) {
    const value = await backend.command(node, 'GET', redisKey(lockName, 'lock')).catch(() => null);
    const match = typeof value === 'string' ? /^(\d+)\|[^|]*\|(\d+)@/.exec(value) : null;
    if (match && Number(match[1]) === token) found.push({ node, clientId: match[2] as string });
  }
  return found;
}

async function killClients(hit: Hit, held: readonly Holding[]): Promise<void> {
  const { backend } = hit.deps;
  await Promise.all(held.map(({ node, clientId }) => backend.command(node, 'CLIENT', 'KILL', 'ID', clientId).catch(() => 0)));
}

const listHeld = (held: readonly Holding[]) => held.map(({ node, clientId }) => `node ${node} client ${clientId}`).join(', ');

/** The primary and the connections its lease records, announced; undefined (and skipped) if there are none. */
async function aimAtPrimaryConnections(hit: Hit) {
  const primary = await hit.primary();
  if (!primary) return void hit.skip('no primary to hit');
  const held = await holdings(hit, primary);
  if (held.length === 0) return void hit.skip(`no node records a connection of pid ${primary.pid}`);
  const duration = hit.duration(primary);
  const target = `pid ${primary.pid} (${listHeld(held)})`;
  hit.say(target, duration);
  return { primary, held, duration, target };
}

/**
 * `reset-in-flight`: CLIENT PAUSE WRITE on the lease's nodes, so the primary's next renew (and the
 * followers' acquires) hang in flight; near the pause's end CLIENT KILL of the primary's connection,
 * then CLIENT UNPAUSE. ioredis resends the hung renew on its new connection: the old holder must
 * step down, not be renewed on a connection the lease was not bound to.
 */
export async function resetInFlight(hit: Hit): Promise<void> {
  const { backend } = hit.deps;
  const aimed = await aimAtPrimaryConnections(hit);
  if (!aimed) return;
  const { primary, held, duration, target } = aimed;
  const at = hostNow();
  try {
    await Promise.all(held.map(({ node }) => backend.command(node, 'CLIENT', 'PAUSE', duration, 'WRITE')));
    await hit.sleep(at + duration * 0.95 - hostNow());
    await killClients(hit, held);
  } finally {
    await Promise.all(held.map(({ node }) => backend.command(node, 'CLIENT', 'UNPAUSE').catch(() => 0)));
  }
  hit.record({ at, end: hostNow(), target }, primary.pid);
}

/**
 * `client-kill-busy-primary`: the primary's event loop blocked, and early in it the server closes
 * its connection. A follower may then take over while the busy holder's synchronous code could
 * still read `isPrimary` true: the report's busy-and-fenced class, harmless only if no such read
 * happens after the takeover.
 */
export async function clientKillBusyPrimary(hit: Hit): Promise<void> {
  const { fleet } = hit.deps;
  const aimed = await aimAtPrimaryConnections(hit);
  if (!aimed) return;
  const { primary, held, duration, target } = aimed;
  const at = hostNow();
  fleet.busy(primary.pid, duration);
  await hit.sleep(Math.min(50, duration / 4)); // the busy loop has begun: the close waits for it
  await killClients(hit, held);
  await hit.sleep(at + duration - hostNow());
  hit.record({ at, end: hostNow(), target }, primary.pid);
}
