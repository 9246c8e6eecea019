/**
 * What idle followers cost the Redis server: 1 holder + 3 followers on a settled lock for ~10 s.
 * Every node's `INFO commandstats` is reset (CONFIG RESETSTAT) and read back at the ends of the
 * window, each together with the server's TIME in one MULTI so the window is exact. The holder's
 * own commands (its renewals) are subtracted: a MONITOR on every node attributes each command to
 * the connection that sent it (and each command a Lua script runs to the script's caller), and the
 * holder's connections are found through /proc. What is left is divided by followers and seconds.
 */

import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { type MonitorRecord, OWN, recordCommands, shareOf, windowEdge } from './counters/redis-window.js';
import { type ContenderSpec, Field } from './field.js';
import { connectionPorts } from './sockets.js';

export interface RedisNode {
  readonly url: string;
  readonly port: number;
}

export interface IdleResult {
  followers: number;
  nodes: number;
  seconds: number;
  /** Per idle follower, over all nodes: commands the server executed (INFO commandstats), Lua-internal included. */
  perFollower: number;
  /** The same without the commands run inside the followers' scripts: requests the follower sent. */
  perFollowerSent: number;
  /** Per idle follower per second, largest first. */
  top: Array<{ command: string; perSec: number }>;
  /** The holder's own commands per second (Lua-internal included), subtracted above. */
  holderPerSec: number;
  anomalies: string[];
}

export async function measureIdle(options: {
  spec: ContenderSpec;
  nodes: readonly RedisNode[];
  followers?: number;
  seconds?: number;
  patienceMs: number;
}): Promise<IdleResult> {
  const { spec, nodes, followers = 3, seconds = 10, patienceMs } = options;
  const anomalies: string[] = [];
  const field = new Field(spec);
  const admins = nodes.map((node) => {
    const client = new Redis(node.url);
    client.on('error', () => undefined);
    return client;
  });
  const monitors: Socket[] = [];
  try {
    // The holder first, then the followers: the one that holds is known before anyone waits.
    const holder = field.spawn();
    await field.waitFor('the first contender to hold', patienceMs, () => (holder.ready && holder.holding) || undefined);
    for (let i = 0; i < followers; i++) field.spawn();
    await field.waitFor('the followers to be ready', patienceMs, () => field.live.every((c) => c.ready) || undefined);
    // Past start-up: connections made, scripts loaded, every follower in its steady waiting rhythm.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const lines = nodes.map(() => [] as MonitorRecord[]);
    for (const [i, node] of nodes.entries()) monitors.push(await recordCommands(node.port, lines[i] as MonitorRecord[]));
    const starts = await Promise.all(admins.map((admin) => windowEdge(admin, 'start')));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const ends = await Promise.all(admins.map((admin) => windowEdge(admin, 'end')));

    const live = field.live;
    if (!holder.holding || live.length !== followers + 1 || live.some((c) => c !== holder && c.holding)) {
      anomalies.push('the field changed during the window (holder lost or a contender exited)');
    }
    const holderPorts = connectionPorts(
      holder.pid,
      nodes.map((n) => n.port),
    );
    if (holderPorts.size === 0) anomalies.push(`no connections of the holder (pid ${holder.pid}) found in /proc: nothing subtracted`);

    const followerCalls = new Map<string, number>();
    let holderCalls = 0;
    let followerLuaCalls = 0;
    let totalSeconds = 0;
    for (const [i, node] of nodes.entries()) {
      const start = starts[i] as number;
      const end = (ends[i] as { time: number }).time;
      totalSeconds += end - start;
      const stats = (ends[i] as { stats: Map<string, number> }).stats;
      // Attribute: a command from a client is its own; a Lua line belongs to the script just sent.
      const { byCommand: holderByCommand, lua: holderLua, luaTotal: luaCalls } = shareOf(lines[i] ?? [], start, end, holderPorts);
      followerLuaCalls += luaCalls - holderLua;
      for (const [command, calls] of stats) {
        if (OWN.has(command)) continue;
        const own = holderByCommand.get(command) ?? 0;
        holderCalls += Math.min(own, calls);
        followerCalls.set(command, (followerCalls.get(command) ?? 0) + Math.max(0, calls - own));
      }
      if (lines[i]?.length === 0) anomalies.push(`MONITOR on ${node.url} saw nothing`);
    }
    const windowSeconds = totalSeconds / nodes.length;
    const perFollowerRate = (calls: number) => calls / followers / windowSeconds;
    const followerTotal = [...followerCalls.values()].reduce((a, b) => a + b, 0);
    return {
      followers,
      nodes: nodes.length,
      seconds: windowSeconds,
      perFollower: perFollowerRate(followerTotal),
      perFollowerSent: perFollowerRate(followerTotal - followerLuaCalls),
      top: [...followerCalls]
        .filter(([, calls]) => calls > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([command, calls]) => ({ command, perSec: perFollowerRate(calls) })),
      holderPerSec: holderCalls / windowSeconds,
      anomalies,
    };
  } finally {
    for (const stream of monitors) stream.destroy();
    for (const admin of admins) admin.disconnect();
    await field.killAll();
  }
}
