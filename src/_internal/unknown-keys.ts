/**
 * Unknown option keys: `elect({ name, tll: 5000 })` would otherwise run with the default TTL and
 * say nothing. Every public function that takes an options object checks its keys here.
 */
import { PrimacyConfigError } from '../errors.js';

/** Where options are checked. */
export interface OptionsSite {
  /** The public call, as the user wrote it: `'elect()'`, `'redisLock()'`. */
  readonly call: string;
  /** The scope of the call's other errors (`[primacy] [redis] ...`). */
  readonly scope: string;
  /** For a nested options object, its option (`'backoff'`, `'processes[0]'`): prefixed to every key. */
  readonly path?: string;
}

/**
 * The option keys of `T`, listed once: a key missing from the list, or one `T` does not have, fails
 * to compile, so the runtime check cannot drift from the type.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): ReadonlyArray<keyof T & string> {
  return Object.freeze(Object.keys(keys)) as ReadonlyArray<keyof T & string>;
}

/**
 * Throws a PrimacyConfigError if `options` has an own key that is not in `known`, naming the call,
 * the key and the nearest known option. Only the keys of `options` are read: a known key holding
 * `undefined` is fine, and nested objects (a client, a lock) are the caller's to check or not.
 */
export function rejectUnknownKeys(options: object, known: readonly string[], site: OptionsSite): void {
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  const [first] = unknown;
  if (first === undefined) return;
  const name = (key: string) => JSON.stringify(site.path === undefined ? key : `${site.path}.${key}`);
  const named = unknown.map((key) => {
    const near = nearestKey(key, known);
    return near === undefined ? { key, text: name(key) } : { key, text: name(key), near: name(near) };
  });
  let text: string;
  if (named.length === 1) {
    const [only] = named as [(typeof named)[number]];
    text = `unknown option ${only.text}${only.near === undefined ? '' : `; did you mean ${only.near}?`}`;
  } else {
    const listed = named.map(({ text, near }) => (near === undefined ? text : `${text} (did you mean ${near}?)`));
    text = `unknown options ${listed.slice(0, -1).join(', ')} and ${listed.at(-1)}`;
  }
  const of = site.path === undefined ? '' : ` of ${JSON.stringify(site.path)}`;
  const knownText = known.length === 0 ? `${site.call} takes no options` : `Known options${of}: ${known.join(', ')}`;
  const option = site.path === undefined ? first : `${site.path}.${first}`;
  const value = (options as Record<string, unknown>)[first];
  const message = `${site.call}: ${text}${text.endsWith('?') ? '' : '.'} ${knownText}`;
  throw new PrimacyConfigError(option, value, 'a known option', site.scope, message);
}

/**
 * The known key nearest to `key` by edit distance (case ignored, a swap of two neighbours counts
 * once), if near enough to be a likely typo: at most a third of the longer name's letters differ.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
    if (distance <= limit && distance < key.length && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the usual dynamic-programming table.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
