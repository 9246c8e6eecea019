/**
 * Idle cost on Redis (one node, or a Redlock quorum): every command the servers executed in the
 * window (`INFO commandstats`, the commands scripts run included), summed over the nodes, the
 * bench's own MULTI/TIME/INFO/CONFIG/MONITOR left out; the holder's share is what MONITOR
 * attributes to the holder process's connections (found through /proc). `CLIENT LIST` is an admin
 * command MONITOR does not show: only followers send it, so the holder's share is unaffected.
 */
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { connectionPorts } from '../sockets.js';
import { addTo, type IdleCounter, ranked, type WindowCount } from './count.js';
import { type MonitorRecord, OWN, recordCommands, shareOf, windowEdge } from './redis-window.js';

export interface CountedRedisNode {
  readonly url: string;
  readonly port: number;
}

export function redisCounter(nodes: readonly CountedRedisNode[], holderPid: () => number): IdleCounter {
  const admins = nodes.map((node) => {
    const client = new Redis(node.url);
    client.on('error', () => undefined);
    return client;
  });
  let monitors: Socket[] = [];
  let records: MonitorRecord[][] = [];
  let starts: number[] = [];
  return {
    async begin() {
      records = nodes.map(() => []);
      monitors = await Promise.all(nodes.map((node, i) => recordCommands(node.port, records[i] as MonitorRecord[])));
      starts = await Promise.all(admins.map((admin) => windowEdge(admin, 'start')));
    },
    async finish(): Promise<WindowCount> {
      const ends = await Promise.all(admins.map((admin) => windowEdge(admin, 'end')));
      for (const stream of monitors.splice(0)) stream.destroy();
      const notes: string[] = [];
      const holderPorts = connectionPorts(
        holderPid(),
        nodes.map((n) => n.port),
      );
      if (holderPorts.size === 0) notes.push('no connection of the holder found in /proc: its share is unknown');
      const by = new Map<string, number>();
      let holder = 0;
      let seconds = 0;
      for (const [i, end] of ends.entries()) {
        seconds += (end.time - (starts[i] as number)) / nodes.length;
        for (const [command, calls] of end.stats) if (!OWN.has(command)) addTo(by, command, calls);
        const share = shareOf(records[i] ?? [], starts[i] as number, end.time, holderPorts);
        for (const count of share.byCommand.values()) holder += count;
      }
      const total = [...by.values()].reduce((a, b) => a + b, 0);
      return { seconds, total, holder: holderPorts.size ? holder : null, by: ranked(by), notes };
    },
    async close() {
      for (const stream of monitors.splice(0)) stream.destroy();
      for (const admin of admins) admin.disconnect();
    },
  };
}
