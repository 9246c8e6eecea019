/**
 * What a lock is called on the server: its `GET_LOCK` name, the name of the second lock its
 * followers queue on (follower.ts), and the quoted table its fencing row lives in.
 */
import { createHash } from 'node:crypto';

/** MySQL refuses user-lock names over 64 characters (ER_USER_LOCK_WRONG_NAME); MariaDB allows a few more. */
const MAX_LOCK_NAME = 64;
/** 16 hex digits of SHA-256: 64 bits, so two names never meet by chance. */
const HASH_DIGITS = 16;

export interface LockNames {
  /** The lock's `GET_LOCK` name, also the key of its fencing row. */
  readonly lock: string;
  /** The lock its waiting followers queue on: whoever holds it watches the holder for everyone. */
  readonly watch: string;
}

/**
 * `<prefix><name>` as is where that is a safe `GET_LOCK` name: at most 64 characters, no upper
 * case (MariaDB's manual calls the names case-insensitive, MySQL folds them, MariaDB 10.11 does
 * not: a name that differs only in case would meet another on one server and not on the other),
 * and no `#`. Otherwise a readable head and a hash of the whole, `<head>#<16 hex digits>`: unique,
 * and never equal to an unhashed name (those have no `#`). The watch lock is always hashed, from
 * another input, so it never equals any lock name.
 */
export function lockNames(prefix: string, name: string): LockNames {
  const full = `${prefix}${name}`;
  const plain = [...full].length <= MAX_LOCK_NAME && full === full.toLowerCase() && !full.includes('#');
  return { lock: plain ? full : hashed(full, full), watch: hashed(`${full}~watch`, `watch\n${full}`) };
}

function hashed(readable: string, input: string): string {
  const hash = createHash('sha256').update(input).digest('hex').slice(0, HASH_DIGITS);
  const head = [...readable].slice(0, MAX_LOCK_NAME - HASH_DIGITS - 1).join('');
  return `${head}#${hash}`;
}

/** One identifier part: what MySQL accepts unquoted, so quoting never has to escape anything. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** Whether `table` is `name` or `schema.name` of plain identifiers (letters, digits, `_`, `$`; not starting with a digit). */
export function checkTableName(table: string): boolean {
  const parts = table.split('.');
  return parts.length <= 2 && parts.every((part) => IDENTIFIER.test(part));
}

/** `table` quoted for SQL: `` `schema`.`name` ``. Only for names `checkTableName` accepted. */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => `\`${part}\``)
    .join('.');
}
