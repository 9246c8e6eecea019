import type { HolderIdentity } from '../../src/adapter.js';

/** What a lock's value holds besides the token, holder id and client id. */
export interface RedisRecord {
  readonly holder: HolderIdentity;
  readonly acquiredAt: number;
  readonly ttl: number;
}

export interface ParsedValue {
  readonly token: number;
  readonly holderId: string;
  /** The holder's connection (`CLIENT ID`), or null where the server refused `CLIENT`. */
  readonly clientId: string | null;
  readonly record: RedisRecord | null;
}

/** `<client id>|<record>`: the part of a value the holder supplies. */
export function valueTail(clientId: string | null, record: RedisRecord): string {
  return `${clientId ?? '-'}|${JSON.stringify(record)}`;
}

export function parseValue(value: string): ParsedValue | null {
  const match = /^(\d+)\|([^|]*)\|([^|]*)\|(.*)$/s.exec(value);
  if (!match) return null;
  let record: RedisRecord | null = null;
  try {
    record = JSON.parse(match[4] as string) as RedisRecord;
  } catch {
    record = null;
  }
  return { token: Number(match[1]), holderId: match[2] as string, clientId: match[3] === '-' ? null : (match[3] as string), record };
}

/** Whether `value` is this lease's own (same token, same holder): a forged or mixed-up lease is refused. */
export function belongsTo(value: string | null | undefined, lease: { token: number; holder: { id: string } }): boolean {
  const parsed = parseValue(value ?? '');
  return parsed !== null && parsed.token === lease.token && parsed.holderId === lease.holder.id;
}
