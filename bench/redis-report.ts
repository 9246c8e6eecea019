/** Renders the Redis part of a bench run (the "Redis and Redlock" section of RESULTS.md and its stdout tables). */
import type { ContenderRun, KillSignal } from './failover.js';
import type { RedisPartResult } from './redis-part.js';
import { type Figure, failoverTable } from './report.js';
import { summarize } from './stats.js';

const table = (head: string[], rows: string[][]) =>
  [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value >= 10 ? 0 : value >= 1 ? 1 : 2)}×` : '–');
const rate = (value: number) => value.toFixed(value >= 100 ? 0 : 1);

/** The primacy figure a peer is compared with: the one on as many nodes (redis for 1, redlock for 3). */
function primacyFor<T extends { label: string; nodes: number }>(rows: readonly T[], nodes: number): T | undefined {
  return rows.find((r) => r.label.startsWith('primacy') && r.nodes === nodes);
}

const nodesOf = (label: string) => (/\(3 nodes\)/.test(label) ? 3 : 1);

function failoverRatios(runs: readonly ContenderRun[]): string {
  const withNodes = runs.map((run) => ({ ...run, nodes: nodesOf(run.label) }));
  const rows: string[][] = [];
  const ratio = (peer: ContenderRun, base: ContenderRun, signal: KillSignal) => {
    const a = peer.results[signal];
    const b = base.results[signal];
    return a && b ? times(summarize(a.samples).p50 / summarize(b.samples).p50) : '–';
  };
  for (const peer of withNodes.filter((r) => !r.label.startsWith('primacy'))) {
    const bases = [primacyFor(withNodes, 1), peer.nodes === 3 ? primacyFor(withNodes, 3) : undefined].filter(
      (b): b is (typeof withNodes)[number] => b !== undefined,
    );
    for (const base of bases) rows.push([`${peer.label} ÷ ${base.label}`, ratio(peer, base, 'SIGKILL'), ratio(peer, base, 'SIGTERM')]);
  }
  return rows.length ? table(['p50 ÷ p50', 'SIGKILL', 'SIGTERM'], rows) : '(no peers measured)';
}

function opsTable(result: RedisPartResult): string {
  const ops = result.ops;
  if (!ops) return '(skipped)';
  const raw = ops.results.find((r) => r.label.startsWith('ioredis'));
  const rows = ops.results.map((r) => {
    const base = primacyFor(ops.results, r.nodes);
    return [
      r.label,
      String(r.nodes),
      r.opsPerSec.toFixed(0),
      raw ? `${((r.opsPerSec / raw.opsPerSec) * 100).toFixed(0)} %` : '–',
      base && base !== r ? times(r.opsPerSec / base.opsPerSec) : '–',
    ];
  });
  return table(['library', 'nodes', 'acquire + release / s', '÷ raw ioredis', 'peer ÷ primacy'], rows);
}

function contentionTable(result: RedisPartResult): string {
  const rows = result.contention;
  if (!rows) return '(skipped)';
  return table(
    ['library', 'nodes', 'acquisitions / s, 4 processes', 'per process', 'attempts / s', 'peer ÷ primacy'],
    rows.map((r) => {
      const base = primacyFor(rows, r.nodes);
      return [
        r.label,
        String(r.nodes),
        r.acquisitionsPerSec.toFixed(0),
        r.perProcess.map((n) => n.toFixed(0)).join(' / '),
        r.attemptsPerSec.toFixed(0),
        base && base !== r ? times(r.acquisitionsPerSec / base.acquisitionsPerSec) : '–',
      ];
    }),
  );
}

function idleTable(result: RedisPartResult): string {
  const rows = result.idle;
  if (!rows) return '(skipped)';
  return table(
    [
      'library',
      'nodes',
      'commands / s per idle follower',
      'of which requests sent',
      'top commands (per follower / s)',
      "holder's own / s",
      'peer ÷ primacy',
    ],
    rows.map(({ label, nodes, result: r }) => {
      const base = primacyFor(rows, nodes);
      return [
        label,
        String(nodes),
        `**${rate(r.perFollower)}**`,
        rate(r.perFollowerSent),
        r.top
          .slice(0, 4)
          .map((c) => `${c.command.toUpperCase().replace('|', ' ')} ${rate(c.perSec)}`)
          .join(', '),
        rate(r.holderPerSec),
        base && base.label !== label ? times(r.perFollower / base.result.perFollower) : '–',
      ];
    }),
  );
}

function goals(result: RedisPartResult): string {
  const lines: string[] = [];
  const ops = result.ops?.results;
  const primacy = ops?.find((r) => r.label === 'primacy redis');
  const raw = ops?.find((r) => r.label.startsWith('ioredis'));
  if (primacy && raw) {
    const share = (primacy.opsPerSec / raw.opsPerSec) * 100;
    lines.push(
      `- Uncontended throughput, primacy redis ÷ raw ioredis: **${share.toFixed(0)} %** (goal ≥ 90 %: ${share >= 90 ? 'met' : 'not met'}).`,
    );
  }
  for (const { label, result: r } of result.idle ?? []) {
    if (!label.startsWith('primacy')) continue;
    lines.push(
      `- ${label}: **${rate(r.perFollower)}** commands/s per idle follower over all nodes` +
        (r.nodes > 1 ? ` (${rate(r.perFollower / r.nodes)} per node)` : '') +
        ` (goal ≤ 10: ${r.perFollower <= 10 ? 'met' : r.nodes > 1 && r.perFollower / r.nodes <= 10 ? 'met per node, not in total' : 'not met'}).`,
    );
  }
  return lines.join('\n');
}

export function redisStdout(result: RedisPartResult): string {
  const parts = [`Redis failover and hand-over (ms):\n\n${failoverTable(result.runs)}`, failoverRatios(result.runs)];
  if (result.ops) parts.push(`Redis uncontended acquire + release:\n\n${opsTable(result)}`);
  if (result.contention) parts.push(`Redis, 4 processes contending:\n\n${contentionTable(result)}`);
  if (result.idle) parts.push(`Redis commands per idle follower:\n\n${idleTable(result)}`);
  const goalLines = goals(result);
  if (goalLines) parts.push(goalLines);
  return parts.join('\n\n');
}

export function redisSection(result: RedisPartResult | null, rounds: number, contenders: number, figure: Figure = () => ''): string {
  if (!result) return '## Redis and Redlock\n\n(skipped)\n';
  const ops = result.ops;
  const idleSeconds = result.idle?.[0]?.result.seconds;
  return `## Redis and Redlock

Private \`redis-server\` processes started by the bench (loopback, \`--save "" --appendonly no\`, one process per node,
nothing else on them); "3 nodes" is a quorum of three such independent servers.

### Failover and hand-over (ms)

${contenders} contender processes on one lock, ${rounds} rounds per signal, measured exactly as the file part above (shared
clock, settled field, random 200–400 ms hold, replacement contender, overlap check).

${result.runs.length ? failoverTable(result.runs) : '(skipped)'}${figure('redis-sigkill')}${figure('redis-sigterm')}

Ratios (how many times longer than primacy, p50 ÷ p50; peers on 3 nodes are also compared with primacy on 3 nodes):

${failoverRatios(result.runs)}

### Uncontended acquire + release, one process

${
  ops
    ? `${ops.seconds} s each, in ${ops.slices} alternating slices after a 0.3 s warm-up, all in the bench's own process. *peer ÷ primacy*
> 1 means the peer completes more cycles. redlock resolves an operation as soon as a majority of nodes has answered
(2 of 3), so on 3 local nodes it is about as fast as on one; primacy's \`redlockLock\` waits for every node (each call
bounded by its node timeout) and takes three rounds (read the token counters, acquire, release) against redlock's two.
On this VM these figures swing by up to ~1.5× from run to run (other work on the host); the ratios within a run hold better.`
    : ''
}

${opsTable(result)}${figure('redis-throughput')}

### Four processes contending for one key

Each process loops acquire → release on the same key as fast as it can for 3 s, all starting at the same instant.

${contentionTable(result)}${figure('redis-contention')}

### Redis commands per idle follower

1 holder + 3 followers on a settled lock for ${idleSeconds ? idleSeconds.toFixed(1) : '~10'} s, after 2 s of settling.
Commands counted by the server (\`INFO commandstats\`, including the commands a Lua script runs), the holder's own commands
subtracted, divided by followers and seconds, summed over the nodes; *requests sent* leaves out the commands run inside
scripts.

${idleTable(result)}${figure('redis-idle')}

${goals(result)}

### How the Redis part was measured

- Contenders (all with a 10 s TTL; each peer's loop is what its README leads a user to write, with its default retry behaviour):
  - \`bench/contenders/primacy-redis.ts\`: \`elect({ name, lock: redisLock({ url }) })\`, every default (ttl 10 s, renew every
    ttl/3, retryInterval 1 s, one waiting follower, the lock's watcher, checks the holder's connection with \`CLIENT LIST ID\` every 150 ms, all wake
    on the release's PUBLISH; SIGTERM releases, then exits). \`primacy-redlock.ts\`: the same on \`redlockLock({ urls })\`.
  - \`bench/contenders/ioredis.ts\`: \`SET key token NX PX 10000\` every 1000 ms while a follower; once OK, renew with a
    compare-and-PEXPIRE Lua script every ttl/3 (3333 ms), \`lost\` when it answers 0 or fails; SIGTERM: stop acting as leader,
    compare-and-DEL Lua, exit. The Lua scripts run through ioredis \`defineCommand\` (EVALSHA).
  - \`bench/contenders/redlock.ts\`: \`new Redlock([3 clients])\` with its defaults (retryCount 10, retryDelay 200 ms, retryJitter
    ±100 ms); while a follower, \`await redlock.acquire([key], 10000)\` again and again: each call makes up to 11 attempts over
    ~2.2 s, then throws ExecutionError (the "held" answer) and releases its partial votes. Default retries rather than
    \`retryCount: 0\` every second: the README offers \`retryCount: 0\` for *checking* whether something is locked, while waiting
    to become leader is what its retries are for, and every peer here runs with its default retry behaviour. Leader:
    \`lock = await lock.extend(10000)\` every ttl/3, \`lost\` when it throws; SIGTERM: \`lock.release()\`. Every error is caught;
    \`Cannot extend an already-expired lock\` (redlock#283) and an acquire resolving with an already-expired lock (redlock#296)
    are reported as error events and would appear in the run notes.
  - \`bench/contenders/redis-semaphore.ts\`: \`new Mutex(client, key, { lockTimeout: 10000, onLockLost })\`, otherwise defaults
    (acquireTimeout 10 s, retryInterval 10 ms, refreshInterval 0.8 × lockTimeout = 8 s); while a follower, \`await
    mutex.acquire()\` again and again (each call tries \`SET NX PX\` every 10 ms for 10 s, then throws TimeoutError). \`acquire()\`
    is the README's main example; its \`tryAcquire()\` runs the very same retry loop with these defaults (it is one attempt only
    with \`acquireAttemptsLimit: 1\`, the README's "optional lock" for skipping work, which leaves the polling period to the
    user). The Mutex refreshes itself; \`onLockLost\` reports \`lost\` and campaigns again (the default throws an unhandled
    LostLockError, redis-semaphore#199/#24); SIGTERM: \`mutex.release()\`.
  - The peers emit \`ready\` once connected with their first attempt on its way (a blocking \`acquire()\` cannot report
    earlier), \`acquired\` when an acquire resolves, \`released\` just before releasing.
- Every phase and measurement uses a key of its own, on the three servers started for this run.
- Throughput (\`bench/redis-cycles.ts\`): primacy at adapter level, \`redisLock().acquire(name, createHolderIdentity(), 10000)\` +
  \`.release(lease)\` (\`redlockLock\` the same), as the election calls them; raw ioredis \`SET NX PX\` + compare-and-DEL Lua;
  redlock \`acquire([key], 10000)\` + \`release()\`; redis-semaphore \`Mutex\` \`tryAcquire()\` + \`release()\`. Under contention an
  attempt must come back at once when the key is held, so redlock runs with \`retryCount: 0\` and the Mutex with
  \`acquireAttemptsLimit: 1, retryInterval: 0\` (a refused attempt still waits one timer tick inside redis-semaphore); a
  refused primacy \`acquire()\` also asks whether the holder's connection is alive (\`CLIENT LIST ID\`), one more round trip.
- Idle followers (\`bench/idle.ts\`): CONFIG RESETSTAT and INFO commandstats each run in one MULTI with TIME, so the window is
  the server's own; a MONITOR on every node attributes each command to the connection that sent it (and the commands a
  script runs to its caller), the holder's connections are found through /proc (its socket inodes in /proc/net/tcp), and the
  holder's share is subtracted. The orchestrator's own commands (MULTI, EXEC, TIME, INFO, CONFIG, MONITOR) are excluded.
  \`CLIENT LIST\` is an admin command that MONITOR does not show; only followers send it, so the subtraction is unaffected.
`;
}
