/**
 * Counting what a Redis server executed over a window, and whose it was: `INFO commandstats`
 * reset and read at the window's ends, each in one MULTI with TIME so the window is the server's
 * own, and a MONITOR that attributes each command to the connection that sent it (a script's own
 * commands to the script's caller). Used by the 3-follower idle count (bench/idle.ts) and the idle
 * cost per lock (bench/counters/redis.ts).
 */
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { monitor } from '../monitor.js';

/** The orchestrator's own commands in the window (the MULTIs and the MONITOR), never the contenders'. */
export const OWN = new Set(['info', 'config|resetstat', 'monitor', 'multi', 'exec', 'time']);
/** Commands whose name in commandstats includes the subcommand (`client|list`). */
const CONTAINERS = new Set(['client', 'config', 'script', 'cluster', 'command', 'object', 'memory', 'function', 'acl', 'pubsub', 'xinfo']);

export interface MonitorRecord {
  time: number;
  /** `ip:port` of the sender, `lua` for a script's own command. */
  source: string;
  /** As commandstats names it: `get`, `client|list`. */
  command: string;
}

/** Starts a MONITOR on `port` that appends every command to `records`. */
export function recordCommands(port: number, records: MonitorRecord[]): Promise<Socket> {
  return monitor(port, ({ time, source, args }) => {
    const name = String(args[0] ?? '').toLowerCase();
    const command = CONTAINERS.has(name) && args[1] ? `${name}|${String(args[1]).toLowerCase()}` : name;
    records.push({ time, source, command });
  });
}

/** What MONITOR saw in [start, end] from connections on `ports` (a script's commands count as its caller's). */
export interface Share {
  byCommand: Map<string, number>;
  /** Of which run inside scripts. */
  lua: number;
  /** Every script-internal command in the window, whoever called the script. */
  luaTotal: number;
}

export function shareOf(records: readonly MonitorRecord[], start: number, end: number, ports: ReadonlySet<number>): Share {
  const byCommand = new Map<string, number>();
  let scriptCaller = '';
  let lua = 0;
  let luaTotal = 0;
  for (const record of records) {
    if (record.time < start || record.time > end) continue;
    const isLua = record.source === 'lua';
    if (!isLua && (record.command === 'eval' || record.command === 'evalsha')) scriptCaller = record.source;
    const caller = isLua ? scriptCaller : record.source;
    if (isLua) luaTotal++;
    if (ports.has(Number(caller.split(':').pop()))) {
      byCommand.set(record.command, (byCommand.get(record.command) ?? 0) + 1);
      if (isLua) lua++;
    }
  }
  return { byCommand, lua, luaTotal };
}

/** Start: reset the stats; end: read them; either way with the server's clock, atomically. */
export async function windowEdge(admin: Redis, edge: 'start'): Promise<number>;
export async function windowEdge(admin: Redis, edge: 'end'): Promise<{ time: number; stats: Map<string, number> }>;
export async function windowEdge(admin: Redis, edge: 'start' | 'end'): Promise<number | { time: number; stats: Map<string, number> }> {
  const multi = admin.multi();
  if (edge === 'start') multi.call('CONFIG', 'RESETSTAT');
  else multi.info('commandstats');
  const replies = (await multi.time().exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  const [seconds, micros] = (replies[1]?.[1] ?? []) as [string?, string?];
  if (seconds === undefined || micros === undefined) throw new Error('TIME did not answer');
  const time = Number(seconds) + Number(micros) / 1e6;
  if (edge === 'start') return time;
  const stats = new Map<string, number>();
  for (const match of String(replies[0]?.[1]).matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
    stats.set(match[1] as string, Number(match[2]));
  }
  return { time, stats };
}
