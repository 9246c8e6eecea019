/** Renders the PostgreSQL, MySQL/MariaDB and etcd failover part of a bench run (its section of RESULTS.md and its stdout tables). */
import type { KillSignal } from './failover.js';
import { type Figure, failoverTable } from './report.js';
import type { SqlEtcdPartResult, SqlEtcdRun } from './sql-etcd-part.js';
import { summarize } from './stats.js';

const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value >= 10 ? 0 : value >= 1 ? 1 : 2)}×` : '–');

/** Each peer against the primacy adapter on its own backend, p50 ÷ p50. */
export function sqlEtcdRatios(runs: readonly SqlEtcdRun[]): string {
  const rows: string[] = [];
  const p50 = (run: SqlEtcdRun, signal: KillSignal) => {
    const result = run.results[signal];
    return result?.samples.length ? summarize(result.samples).p50 : Number.NaN;
  };
  for (const peer of runs.filter((r) => !r.label.startsWith('primacy'))) {
    const base = runs.find((r) => r.backend === peer.backend && r.label.startsWith('primacy'));
    if (!base) continue;
    const ratio = (signal: KillSignal) => times(p50(peer, signal) / p50(base, signal));
    rows.push(`| ${peer.label} ÷ ${base.label} | ${ratio('SIGKILL')} | ${ratio('SIGTERM')} |`);
  }
  return rows.length ? ['| p50 ÷ p50 | SIGKILL | SIGTERM |', '| --- | --- | --- |', ...rows].join('\n') : '(no peers measured)';
}

export function sqlEtcdStdout(result: SqlEtcdPartResult): string {
  return `PostgreSQL, MySQL/MariaDB and etcd failover and hand-over (ms):\n\n${failoverTable(result.runs)}\n\n${sqlEtcdRatios(result.runs)}`;
}

export function sqlEtcdSection(
  result: SqlEtcdPartResult | null | undefined,
  rounds: number,
  contenders: number,
  figure: Figure = () => '',
): string {
  if (!result) return '## PostgreSQL, MySQL/MariaDB and etcd\n\n(skipped)\n';
  const ttl = result.etcdTtlMs;
  const poll = result.loopPollMs;
  return `## PostgreSQL, MySQL/MariaDB and etcd

primacy's \`postgresLock\`, \`mysqlLock\` and \`etcdLock\`, each beside the closest thing a user would write without primacy,
on a private server the bench starts for the backend (PostgreSQL and MariaDB on loopback with a fresh data directory, a
single-node etcd), and stops once the backend is measured.

### Failover and hand-over (ms)

${contenders} contender processes on one lock, ${rounds} rounds per signal, measured exactly as the parts above (from the signal sent
to the new holder's own \`acquired\` stamp; settled field, random 200–400 ms hold, replacement contender, overlap check).

${result.runs.length ? failoverTable(result.runs) : '(skipped)'}${figure('sql-etcd-sigkill')}${figure('sql-etcd-sigterm')}

Ratios (how many times longer than primacy on the same backend, p50 ÷ p50):

${sqlEtcdRatios(result.runs)}

### How this part was measured

- TTLs: primacy's PostgreSQL and MySQL contenders run with every default (ttl 10 s); their peers have no TTL at all (a session
  lock lives as long as its connection), so none is set. Both etcd contenders use a ${ttl / 1000} s TTL (primacy's \`ttl\`, and the
  etcd3 Election's lease): after a crash both wait for the holder's lease to run out, so the TTL bounds either; ${ttl / 1000} s rather
  than primacy's default 10 s only keeps the etcd SIGKILL rounds to about two minutes.
- \`bench/contenders/primacy-backend.ts\`: \`elect({ name, lock })\` on \`postgresLock({ connectionString })\`, \`mysqlLock({ uri })\` or
  \`etcdLock({ hosts })\`, every default but the etcd TTL (handleSignals: SIGTERM releases, then exits). PostgreSQL: a session
  advisory lock; one follower checks the holder's session every 200 ms and NOTIFYs the others. MySQL: GET_LOCK on a session of
  the lock's own; followers wait blocked in the server, and one handed the lock after its holder's session ended waits
  takeoverGrace (50 ms) before it is elected. etcd: a lease and a create-if-absent transaction; followers watch the key; after a
  crash a follower takes over once the holder's lease has certainly ended (about one TTL after its last renew).
- \`bench/contenders/pg-advisory-loop.ts\`: one \`pg.Client\`; while a follower, \`SELECT pg_try_advisory_lock(hashtext(name))\` every
  ${poll} ms; once true, leader for as long as the session lives (\`lost\` if the connection errors or ends); SIGTERM: stop acting as
  leader, \`pg_advisory_unlock\`, \`end()\`, exit. The server frees a crashed leader's lock when it sees the connection close, and the
  next poll takes it: SIGKILL and SIGTERM both average about half a poll.
- \`bench/contenders/mysql-get-lock-loop.ts\`: the same loop with mysql2: \`SELECT GET_LOCK(name, 0)\` every ${poll} ms, \`RELEASE_LOCK\`
  on SIGTERM.
- \`bench/contenders/etcd3-election.ts\`: etcd3's own election as its README shows it, \`client.election(name, ${ttl / 1000}).campaign(id)\`,
  \`elected\` reports \`acquired\`, a campaign \`error\` reports \`lost\`; SIGTERM: \`campaign.resign()\` (revokes its lease), exit. Each
  candidate's key is on a lease of its own that etcd3 keeps alive; candidates queue by creation revision and each waits for the
  deletion of the key before its own, so a crashed leader is replaced when etcd expires its lease.
`;
}
