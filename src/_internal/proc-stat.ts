import { readFileSync } from 'node:fs';

/**
 * Linux: the fields of /proc/<pid>/stat from field 3 (state) on, or undefined where there is no
 * such process or no /proc. The command name (field 2) may hold spaces and parentheses: the
 * fields are split after its last ')'.
 */
export function procStatFields(pid: number | string): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
