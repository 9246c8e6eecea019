import type { HolderIdentity, LockRecord } from '../adapter.js';
import { EXIT } from './args.js';

/** A lock's status as `lock-status` judges it at `now`. */
export interface LockStatus {
  readonly name: string;
  readonly location: string;
  readonly state: 'held' | 'free' | 'none';
  readonly verdict: 'held' | 'free' | 'stale';
  /** Why: `live`/`unknown` (held), `dead`/`expired`/`corrupt` (stale), `released`/`never` (free). */
  readonly reason: 'live' | 'unknown' | 'dead' | 'expired' | 'corrupt' | 'released' | 'never';
  readonly record: LockRecord | null;
  readonly now: number;
  /** Redlock nodes that did not answer (`URL: reason`): the verdict is the other nodes'. */
  readonly unreachable: readonly string[];
}

export function assess(
  name: string,
  location: string,
  record: LockRecord | null,
  now: number,
  unreachable: readonly string[] = [],
): LockStatus {
  const base = { name, location, record, now, unreachable };
  if (record === null) return { ...base, state: 'none', verdict: 'free', reason: 'never' };
  if (record.state === 'free') return { ...base, state: 'free', verdict: 'free', reason: 'released' };
  const held = { ...base, state: 'held' as const };
  // A held state file without a readable record: the adapter reclaims it as stale.
  if (record.holder === null) return { ...held, verdict: 'stale', reason: 'corrupt' };
  if (record.alive === false) return { ...held, verdict: 'stale', reason: 'dead' };
  if (record.expiresAt !== null && record.expiresAt < now) return { ...held, verdict: 'stale', reason: 'expired' };
  return { ...held, verdict: 'held', reason: record.alive === true ? 'live' : 'unknown' };
}

export function exitCodeOf(status: LockStatus): number {
  return status.verdict === 'held' ? EXIT.held : status.verdict === 'free' ? EXIT.free : EXIT.stale;
}

/** The `--json` shape: `{ name, location, state, verdict, record, now }`, plus `unreachable` when nodes did not answer. */
export function toJson(status: LockStatus): string {
  const { name, location, state, verdict, record, now, unreachable } = status;
  return JSON.stringify({ name, location, state, verdict, record, now, ...(unreachable.length > 0 && { unreachable }) });
}

/** What identifies a change for `--watch` (renewals and the passing of time are not changes). */
export function changeKey(status: LockStatus): string {
  const { state, verdict, reason, record, unreachable } = status;
  return JSON.stringify([state, verdict, reason, record?.token, record?.holder?.id, record?.alive, unreachable]);
}

/** A verdict in one line, e.g. "held by pid 1234 on host vm (alive), token 7". */
export function verdictLine(status: LockStatus): string {
  const { record, reason, now } = status;
  const who = (holder: HolderIdentity | null | undefined) =>
    holder ? `pid ${holder.pid} on host ${holder.hostname}${holder.label ? ` (${holder.label})` : ''}` : 'an unknown holder';
  switch (reason) {
    case 'never':
      return 'free: never taken';
    case 'released':
      // An adapter names the holder who released the lock; without one, the lease ended otherwise.
      return record?.holder
        ? `free: released by ${who(record.holder)}, token ${record.token} (the next holder's token is higher)`
        : `free: the lease of token ${record?.token} ended without a recorded release (it expired, or its holder left no record); the next holder's token is higher`;
    case 'corrupt':
      return `STALE: the state file of token ${record?.token} is unreadable — the next candidate reclaims the lock`;
    case 'dead':
      return `STALE: holder ${who(record?.holder)} is dead — the next candidate takes over at once`;
    case 'expired':
      return `STALE: the lease of ${who(record?.holder)} expired ${duration(now - (record?.expiresAt ?? now))} ago (not renewed) — the next candidate takes over`;
    case 'live':
      return `held by ${who(record?.holder)} (alive), token ${record?.token}`;
    case 'unknown':
      return `held by ${who(record?.holder)} (liveness unknown from here: another host or pid namespace), token ${record?.token}`;
  }
}

/** The human output: an aligned two-column table, then the verdict line. */
export function renderTable(status: LockStatus): string {
  const { name, location, state, record, now } = status;
  const rows: Array<[string, string]> = [
    ['lock', `${name}  (${location})`],
    ['state', state === 'none' ? 'never taken' : state],
  ];
  if (record) {
    const holder = record.holder;
    const held = record.state === 'held';
    rows.push(
      ['holder id', holder?.id ?? '?'],
      ['identity', holder?.label ?? '-'],
      ['pid', holder ? String(holder.pid) : '?'],
      ['host', holder?.hostname ?? '?'],
      ['alive', !held ? '-' : record.alive === true ? 'yes' : record.alive === false ? 'no' : 'unknown'],
      ['age', record.acquiredAt === null ? '?' : `${duration(now - record.acquiredAt)}  (since ${iso(record.acquiredAt)})`],
      ['last renew', record.renewedAt === null ? '?' : `${duration(now - record.renewedAt)} ago`],
      ['TTL left', ttlLeft(record, now)],
      ['token', String(record.token)],
      ['version', holder?.version ?? '?'],
    );
  }
  for (const node of status.unreachable) rows.push(['unreachable', `${node}  (answered without it)`]);
  const width = Math.max(...rows.map(([key]) => key.length));
  return `${rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\n\n${verdictLine(status)}\n`;
}

function ttlLeft(record: LockRecord, now: number): string {
  if (record.state !== 'held' || record.expiresAt === null) return '-';
  const left = record.expiresAt - now;
  return left < 0 ? `expired (${duration(-left)} ago)` : duration(left);
}

/** 350ms, 12.3s, 4m 05s, 2h 03m, 3d 04h. */
export function duration(ms: number): string {
  const a = Math.max(0, ms);
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (a < 1000) return `${Math.round(a)}ms`;
  if (a < 60_000) return `${(Math.floor(a / 100) / 10).toFixed(1)}s`;
  if (a < 3_600_000) return `${Math.floor(a / 60_000)}m ${pad((a % 60_000) / 1000)}s`;
  if (a < 86_400_000) return `${Math.floor(a / 3_600_000)}h ${pad((a % 3_600_000) / 60_000)}m`;
  return `${Math.floor(a / 86_400_000)}d ${pad((a % 86_400_000) / 3_600_000)}h`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
