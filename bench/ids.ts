/**
 * What `BENCH_ONLY` can name: every measured thing has an id, and groups name several. A run of a
 * subset shows the others as skipped. Kept apart from run.ts so the bench's tests can check it.
 */
import { IDLE_PER_LOCK_IDS } from './idle-per-lock.js';
import { MANAGER_PART_IDS } from './manager/part.js';
import { REDIS_PART_IDS } from './redis-part.js';
import { SQL_ETCD_GROUPS, SQL_ETCD_IDS } from './sql-etcd-part.js';

export const FILE_PART_IDS = ['primacy-file', 'proper-lockfile-defaults', 'proper-lockfile-tuned', 'micro'] as const;

export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  file: FILE_PART_IDS,
  redis: REDIS_PART_IDS,
  ...SQL_ETCD_GROUPS,
  'sql-etcd': SQL_ETCD_IDS,
  'idle-per-lock': IDLE_PER_LOCK_IDS,
  manager: MANAGER_PART_IDS,
};

export const KNOWN_IDS: readonly string[] = [
  ...FILE_PART_IDS,
  ...REDIS_PART_IDS,
  ...SQL_ETCD_IDS,
  ...IDLE_PER_LOCK_IDS,
  ...MANAGER_PART_IDS,
];

export interface Selection {
  /** The ids and groups as given, or undefined for a full run. */
  only: string[] | undefined;
  selected: (id: string) => boolean;
}

/** Reads `BENCH_ONLY` (`id,group,...`); throws on a name that is neither an id nor a group. */
export function selection(value: string | undefined): Selection {
  const only = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ids = only?.flatMap((id) => GROUPS[id] ?? [id]);
  for (const id of ids ?? []) {
    if (!KNOWN_IDS.includes(id)) {
      throw new Error(`BENCH_ONLY: unknown id ${id} (groups: ${Object.keys(GROUPS).join(', ')}; ids: ${KNOWN_IDS.join(', ')})`);
    }
  }
  return { only, selected: (id) => !ids || ids.includes(id) };
}
