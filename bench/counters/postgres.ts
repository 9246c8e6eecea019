/**
 * Idle cost on PostgreSQL: the statements the server logged in the window. The server logs every
 * statement (`log_statement = all`) with its epoch time and the session's application name as the
 * line prefix (`%n|%a|`, bench/private-servers.ts), so the window is the server's own clock, the
 * holder is the session named `bench-holder`, and the bench sends nothing itself (it reads the
 * log). Simple-protocol statements log as `statement:`, extended-protocol ones as `execute`.
 */
import { addTo, type IdleCounter, ranked, type WindowCount } from './count.js';

export const HOLDER_APPLICATION = 'bench-holder';
export const FOLLOWER_APPLICATION = 'bench-follower';

export interface LoggedStatement {
  /** Epoch seconds. */
  time: number;
  application: string;
  text: string;
}

/** Every statement line of a log written with `log_line_prefix = '%n|%a|'`. */
export function loggedStatements(log: string): LoggedStatement[] {
  const statements: LoggedStatement[] = [];
  for (const match of log.matchAll(/^(\d+\.\d+)\|([^|\n]*)\|LOG: {2}(?:statement|execute [^:\n]*): ([^\n]*)$/gm)) {
    statements.push({ time: Number(match[1]), application: match[2] as string, text: match[3] as string });
  }
  return statements;
}

/** A statement's kind for the breakdown: its first words up to the first parenthesis (`SELECT pg_try_advisory_lock`). */
export function statementKind(text: string): string {
  const head = text.replace(/\s+/g, ' ').trim().split('(')[0] ?? '';
  return head.split(' ').slice(0, 3).join(' ').slice(0, 48);
}

/** `log()`: the server's log so far. `settle` ms are waited after the window for its last lines to arrive. */
export function postgresCounter(log: () => string, settle = 500): IdleCounter {
  let start = 0;
  return {
    async begin() {
      start = Date.now() / 1000;
    },
    async finish(): Promise<WindowCount> {
      const end = Date.now() / 1000;
      await new Promise((resolve) => setTimeout(resolve, settle));
      const inWindow = loggedStatements(log()).filter((s) => s.time >= start && s.time <= end);
      const ours = inWindow.filter((s) => s.application === HOLDER_APPLICATION || s.application === FOLLOWER_APPLICATION);
      const by = new Map<string, number>();
      for (const statement of ours) addTo(by, statementKind(statement.text), 1);
      const notes = inWindow.length > ours.length ? [`${inWindow.length - ours.length} statements of other sessions left out`] : [];
      return {
        seconds: end - start,
        total: ours.length,
        holder: ours.filter((s) => s.application === HOLDER_APPLICATION).length,
        by: ranked(by),
        notes,
      };
    },
    async close() {},
  };
}
