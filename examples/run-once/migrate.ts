/**
 * A deploy-time migration that every instance runs at start-up, before it serves: `runOnce` lets
 * exactly one of them apply it; the others wait until it is done (logging whom they wait for), or
 * learn that it failed. Run it four times at once:
 *
 *   for i in 1 2 3 4; do node --import tsx examples/run-once/migrate.ts & done; wait
 *
 * The "database" is a JSON file, so the example needs nothing installed. Environment:
 * DB_FILE (default: the OS temp dir), LOCK_DIR (the file lock's directory), MIGRATION_MS (how long
 * the migration takes, default 1500), MIGRATION_FAIL=1 (make it fail), MIGRATION_GATE (a file the
 * migration waits for before it finishes: lets a test hold it until every waiter is waiting).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileLock, runOnce } from 'primacy';

const db = process.env.DB_FILE ?? join(tmpdir(), 'primacy-example-db.json');
const report = (ev: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));

interface Schema {
  version: number;
  applied: Array<{ pid: number; token: number }>;
}

async function migrateToV2({ token, signal }: { token: number; signal: AbortSignal }): Promise<number> {
  report('running', { token });
  const schema: Schema = existsSync(db) ? JSON.parse(readFileSync(db, 'utf8')) : { version: 1, applied: [] };
  await sleep(Number(process.env.MIGRATION_MS ?? 1500), undefined, { signal }); // the slow part: ALTER TABLE ...
  const gate = process.env.MIGRATION_GATE;
  while (gate && !existsSync(gate)) await sleep(20, undefined, { signal });
  if (process.env.MIGRATION_FAIL === '1') throw new Error('column "email" already exists');
  // The fencing token goes with the write, so a store that checks it can refuse a stale runner.
  writeFileSync(db, JSON.stringify({ version: 2, applied: [...schema.applied, { pid: process.pid, token }] }));
  return 2;
}

try {
  const lock = fileLock(process.env.LOCK_DIR ? { dir: process.env.LOCK_DIR } : {});
  // The progress lines ("waiting for pid ...") as JSON lines too.
  const logger = {
    info: (message: string) => report('log', { message }),
    warn: (message: string) => report('warning', { message }),
    error: (message: string) => report('warning', { message }),
  };
  const result = await runOnce('migrate-to-v2', migrateToV2, { lock, ttl: 3000, progressInterval: 500, logger });
  report('result', { ran: result.ran, runner: result.outcome.holder.pid, token: result.outcome.token });
  await lock.close?.();
  // ...and now this instance starts serving.
} catch (error) {
  const { name, code, message } = error as Error & { code?: string };
  report('error', { name, code, message });
  process.exitCode = 1;
}
