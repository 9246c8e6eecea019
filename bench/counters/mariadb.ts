/**
 * Idle cost on MariaDB: the server's `Questions` (statements clients sent: COM_QUERY and
 * COM_STMT_EXECUTE; neither pings nor prepares) over the window from `SHOW GLOBAL STATUS`, minus
 * the bench's own (the window's closing SHOW and the two USER_STATISTICS reads: 3), with the
 * `Com_*` counters as the breakdown. The holder connects as a user of its own, so its share is its
 * user's statements in `information_schema.USER_STATISTICS` (the server runs with `--userstat`).
 */
import type mysql from 'mysql2/promise';
import { addTo, type IdleCounter, ranked, type WindowCount } from './count.js';

export const HOLDER_USER = 'bench_holder';
export const FOLLOWER_USER = 'bench_follower';
/** Statements of the bench's own counted between the two reads of `Questions` (see above). */
const OWN_QUESTIONS = 3;

type Status = Map<string, number>;

async function globalStatus(admin: mysql.Connection): Promise<Status> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name = 'Questions' OR Variable_name LIKE 'Com\\_%'",
  );
  return new Map(rows.map((row) => [String(row.Variable_name), Number(row.Value)]));
}

async function holderStatements(admin: mysql.Connection): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS AS n FROM information_schema.USER_STATISTICS WHERE USER = ?',
    [HOLDER_USER],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Creates the holder's and the followers' users (every privilege, no password): call once per server. */
export async function createBenchUsers(admin: mysql.Connection): Promise<void> {
  for (const user of [HOLDER_USER, FOLLOWER_USER]) {
    await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'%'`);
    await admin.query(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
  }
}

export function mariadbCounter(admin: mysql.Connection): IdleCounter {
  let before: Status = new Map();
  let holderBefore = 0;
  let start = 0;
  return {
    async begin() {
      before = await globalStatus(admin);
      holderBefore = await holderStatements(admin);
      start = performance.now();
    },
    async finish(): Promise<WindowCount> {
      const seconds = (performance.now() - start) / 1000;
      const holder = (await holderStatements(admin)) - holderBefore;
      const after = await globalStatus(admin);
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
      const by = new Map<string, number>();
      for (const name of after.keys()) if (name.startsWith('Com_')) addTo(by, name.slice(4), delta(name));
      // Ours: the closing SHOW STATUS and the two USER_STATISTICS SELECTs.
      addTo(by, 'show_status', -1);
      addTo(by, 'select', -2);
      return { seconds, total: delta('Questions') - OWN_QUESTIONS, holder, by: ranked(by), notes: [] };
    },
    async close() {},
  };
}
