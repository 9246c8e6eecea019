/**
 * Faults done to where the lock lives: server nodes (Redis, PostgreSQL, MariaDB, etcd) paused,
 * killed and restarted (with their data, or wiped), the lock's state flushed or evicted under a
 * live holder, the lock directory removed.
 */
import { rmSync } from 'node:fs';
import { fileLockPath } from '../adapters/file/path.js';
import { hostNow } from '../harness/clock.js';
import type { Hit } from './hit.js';

/** The Redis keys of a lock (adapters/redis.ts: `<prefix>{<name>}:<part>`, default prefix). */
export const redisKey = (name: string, part: 'lock' | 'token'): string => `primacy:{${name}}:${part}`;

/** Which nodes a node fault hits: one picked node, or every node but it for `majority-*` (2 of 3). */
function nodesOf(hit: Hit): number[] {
  const { nodes } = hit.deps.backend;
  const hitNode = Math.floor(hit.fault.pick * nodes);
  return hit.kind.startsWith('majority-') ? Array.from({ length: nodes }, (_, i) => i).filter((i) => i !== hitNode) : [hitNode];
}

/**
 * `*-restart-primary-stopped`: the primary SIGSTOPped while the nodes restart (persisted, so its
 * lease survives); it resumes while its lease is still valid, its connection gone.
 */
export async function restartWhilePrimaryStopped(hit: Hit): Promise<void> {
  const { fleet, backend, recorder } = hit.deps;
  const nodes = nodesOf(hit);
  const target = await hit.primary();
  if (!target) return hit.skip('no primary to hit');
  const duration = hit.duration(target);
  hit.say(`pid ${target.pid} + node ${nodes.join('+')}`, duration);
  const at = hostNow();
  fleet.stop(target.pid);
  await backend.down(nodes);
  await backend.up(nodes);
  await hit.sleep(at + duration - hostNow());
  fleet.resume(target.pid);
  recorder.paused({ pid: target.pid, from: at, to: hostNow(), cause: 'stop' });
  hit.record({ at, end: hostNow(), target: `pid ${target.pid} + node ${nodes.join('+')}` }, target.pid);
}

/** `*-pause`, `*-kill-restart`, `redis-empty-restart`: nodes paused, or down (wiped or not) for the fault's duration, then up. */
export async function nodeOutage(hit: Hit): Promise<void> {
  const { backend, recorder } = hit.deps;
  const nodes = nodesOf(hit);
  const primary = recorder.primary();
  const duration = hit.duration(primary);
  hit.say(`node ${nodes.join('+')}`, duration);
  const at = hostNow();
  if (hit.kind.endsWith('-pause')) await backend.pause(nodes);
  else if (hit.kind === 'redis-empty-restart') await backend.wipe(nodes);
  else await backend.down(nodes);
  await hit.sleep(at + duration - hostNow());
  if (hit.kind.endsWith('-pause')) backend.resume(nodes);
  else await backend.up(nodes);
  hit.record({ at, end: hostNow(), target: `node ${nodes.join('+')}` }, primary?.pid ?? null);
}

/**
 * `redis-flushall`, `redis-evict`, `majority-flushall` (every Redlock node but one), `dir-removed`:
 * the lock's state vanishes under a live holder, its token counter with it. What the adapters must
 * not do is take that as a release.
 */
export async function stateLoss(hit: Hit): Promise<void> {
  const { backend, lockName } = hit.deps;
  const holder = await hit.primary();
  if (!holder) return hit.skip('no live holder to hit');
  const what =
    hit.kind === 'dir-removed'
      ? fileLockPath(lockName, backend.where)
      : hit.kind === 'redis-flushall'
        ? 'FLUSHALL'
        : hit.kind === 'majority-flushall'
          ? `FLUSHALL on node ${nodesOf(hit).join('+')}`
          : `DEL ${redisKey(lockName, 'lock')} ${redisKey(lockName, 'token')}`;
  hit.say(`(${what}) under pid ${holder.pid}`);
  const at = hostNow();
  if (hit.kind === 'dir-removed') rmSync(what, { recursive: true, force: true });
  else if (hit.kind === 'redis-flushall') await backend.command(0, 'FLUSHALL');
  else if (hit.kind === 'majority-flushall') await Promise.all(nodesOf(hit).map((node) => backend.command(node, 'FLUSHALL')));
  else await backend.command(0, 'DEL', redisKey(lockName, 'lock'), redisKey(lockName, 'token'));
  hit.record({ at, end: at, target: what }, holder.pid);
}
