/** Renders the idle cost per lock (bench/idle-per-lock.ts): its section of RESULTS.md and its stdout table. */
import type { IdleLevel, IdlePerLockResult } from './idle-per-lock.js';
import type { Figure } from './report.js';

const rate = (value: number | null) => (value === null || !Number.isFinite(value) ? '–' : value.toFixed(value >= 100 ? 0 : 1));
const table = (head: string[], rows: string[][]) =>
  [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');

/** A breakdown entry fit for a table cell: Redis commands as Redis writes them (`CLIENT LIST`), never a bare `|`. */
function cell(what: string, unit: string): string {
  return (unit === 'commands' ? what.toUpperCase() : what).replace(/\|/g, ' ');
}

function goal(level: IdleLevel, goalPerSec: number, nodes: number): string {
  if (level.followers !== 200) return '';
  if (level.perSec <= goalPerSec) return 'met';
  return nodes > 1 && level.perSec / nodes <= goalPerSec ? 'met per node, not in total' : 'not met';
}

export function idlePerLockTable(result: IdlePerLockResult): string {
  const rows: string[][] = [];
  for (const backend of result.backends) {
    for (const level of backend.levels) {
      const followersShare = level.holderPerSec === null ? null : level.perSec - level.holderPerSec;
      rows.push([
        backend.label,
        String(level.followers),
        `${level.processes}`,
        `**${rate(level.perSec)}** ${backend.unit}${backend.nodes > 1 ? ` (${rate(level.perSec / backend.nodes)} per node)` : ''}`,
        rate(level.holderPerSec),
        rate(followersShare),
        level.top
          .slice(0, 4)
          .map((t) => `${cell(t.what, backend.unit)} ${rate(t.perSec)}`)
          .join(', '),
        `${(level.cpuBusy * 100).toFixed(0)} %`,
        goal(level, result.goalPerSec, backend.nodes),
      ]);
    }
    if (backend.failure) rows.push([backend.label, '–', '–', `failed: ${backend.failure.slice(0, 160)}`, '', '', '', '', '']);
  }
  const head = [
    'adapter',
    'followers',
    'processes',
    'per lock / s (holder included)',
    "holder's own / s",
    "followers' / s",
    'top (per s)',
    'machine CPU busy',
    `goal ≤ ${result.goalPerSec} at 200`,
  ];
  return table(head, rows);
}

function notes(result: IdlePerLockResult): string {
  const lines: string[] = [];
  for (const backend of result.backends) {
    for (const level of backend.levels) {
      for (const note of level.notes) lines.push(`- ${backend.label}, ${level.followers} followers: ${note}`);
    }
  }
  return lines.join('\n');
}

export function idlePerLockStdout(result: IdlePerLockResult): string {
  return `Idle cost per lock (holder + N followers, counted by the server, ${result.windowSeconds} s windows):\n\n${idlePerLockTable(result)}`;
}

export function idlePerLockSection(result: IdlePerLockResult | null | undefined, figure: Figure = () => ''): string {
  if (!result) return '## Idle cost per lock\n\n(skipped)\n';
  const notesText = notes(result);
  return `## Idle cost per lock

What one lock costs its server per second while its holder holds it and N followers wait, for every network adapter:
every request the server counted for the lock, the holder's own included (and shown apart), the bench's own left out.
Goal: at most ${result.goalPerSec} per second for one lock at 200 followers. Each election runs on an adapter of its own, so with
connections of its own, as a process of its own would; the followers are spread over a few processes (1 for 1 and 10
followers, 2 for 50, 4 for 200: 200 node processes would not fit the machine's cores). Every default (ttl 10 s).

${idlePerLockTable(result)}${figure('idle-per-lock')}

### How the idle cost was measured

- Per level, the holder's process starts and wins first, then the followers' processes; once every election is ready the
  field settles for ${result.settleSeconds} s (start-up attempts, connections, LISTEN/watch set-up), then the server's counts are taken
  over a ${result.windowSeconds} s window. Long, because followers rest for long and nearly in step: a MySQL follower's wait in the
  server lasts 48–60 s (followerWait 60 s) and an etcd follower retries every 30 s (idleRetry, ± the election's jitter)
  while its watch is healthy, and every follower of a level started within a few seconds, so their re-tries come in waves;
  ${result.windowSeconds} s holds one whole period. Redis and PostgreSQL followers rest at random, so their tries spread: a Redis
  follower's rest is exponential (memoryless), so the followers try at their long-run rate from any moment on; a PostgreSQL
  follower's is uniform up to N s for N followers (about 2 tries a second in the long run), and all of a level's started
  together, so this early their tries come at about 60 % of the long-run rate (200 followers: some 1.2 tries a second
  instead of 2): PostgreSQL's followers' share is a little below its long-run value.
- Every backend and level runs on servers of its own (server-side counts do not mix), started for it and stopped after it.
  The backends are measured side by side, the levels in rounds (${result.rounds.map((round) => round.join(', ')).join(' followers together, then ')}
  followers): this measures requests, not latencies. *machine CPU busy* is the whole machine's over the window.
- Redis (\`redis\`, and \`redlock\` summed over its 3 independent nodes): commands the server executed, \`INFO commandstats\`
  reset and read in one MULTI with TIME at the window's ends, so including the commands scripts run (\`redis.call\` inside
  EVALSHA); the holder's share is what a MONITOR attributes to the holder process's connections (found through /proc).
- PostgreSQL: statements the server logged (\`log_statement = all\`, \`log_line_prefix = '%n|%a|'\`): every statement a
  session sent, simple or extended protocol, with the server's timestamp and the session's application name
  (\`bench-holder\` for the holder, \`bench-follower\` for the followers, set in their connection URLs), so the window is the
  server's clock and the bench sends nothing itself.
- MariaDB: \`Questions\` from \`SHOW GLOBAL STATUS\` over the window (statements clients sent; pings and prepares are not
  counted), minus the bench's own 3, and the \`Com_*\` counters for the breakdown; the holder connects as a user of its own
  and its share is that user's statements in \`information_schema.USER_STATISTICS\` (\`--userstat\`).
- etcd: gRPC messages the server received (\`grpc_server_msg_received_total\` from /metrics, by method: one per unary request
  and one per message on a stream, such as each lease keep-alive; \`grpc_server_handled_total\` would miss the messages of
  streams that stay open). The scrapes are plain HTTP and add nothing. The holder reaches etcd through a relay in the bench
  that counts the HTTP/2 DATA frames it sends (bench/counters/h2-proxy.ts): its share. HTTP/2 pings (the adapter's
  client pings an idle connection every 10 s) are transport, not requests, and not counted.
${notesText ? `\nRun notes:\n\n${notesText}\n` : ''}`;
}
