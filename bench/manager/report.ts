/** The "Worker manager" section of bench/RESULTS.md, between markers so a partial run can splice it in. */
import type { Figure } from '../report.js';
import { formatMs, summarize } from '../stats.js';
import type { KillSample } from './failover.js';
import { CONCURRENCY, RELOAD_CONCURRENCY, WORKERS } from './http.js';
import { HANG_ROUNDS, type ManagerPartResult, SLICE_MS, THROUGHPUT_SLICES } from './part.js';

export const BEGIN = '<!-- manager-section:begin -->';
export const END = '<!-- manager-section:end -->';

const stat = (samples: number[]) => {
  const { p50, p95, max } = summarize(samples);
  return `${formatMs(p50)} | ${formatMs(p95)} | ${formatMs(max)}`;
};
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

function failoverTable(r: ManagerPartResult): string {
  const f = r.failover;
  if (!f) return '(skipped)';
  const lines = [row(['figure', 'n', 'p50', 'p95', 'max']), row(['---', '---', '---', '---', '---'])];
  const add = (label: string, samples: number[]) => samples.length && lines.push(row([label, String(samples.length), stat(samples)]));
  const k = (samples: KillSample[], key: keyof KillSample) => samples.map((s) => s[key]);
  add('**SIGKILL primary → another worker `elected`**', k(f.primary, 'ms'));
  add('… → replacement of the primary’s slot acked', k(f.primary, 'replacedMs'));
  add('**SIGKILL non-primary worker → replacement `acked`**', k(f.worker, 'ms'));
  add('… → manager `exit` event', k([...f.primary, ...f.worker], 'exitMs'));
  add('… → replacement process started (incl. restart delay)', k([...f.primary, ...f.worker], 'forkMs'));
  add('… replacement’s own boot (process start → `acked`)', k([...f.primary, ...f.worker], 'bootMs'));
  add(
    '… → replacement `acked` minus its own boot',
    [...f.primary, ...f.worker].map((s) => s.replacedMs - s.bootMs),
  );
  add(`boot of the ${f.workers} initial workers, started together`, f.startBootMs);
  add(
    '**SIGSTOP non-primary worker → `hung`**',
    f.hang.map((h) => h.hungMs),
  );
  add(
    '… → replacement `acked`',
    f.hang.map((h) => h.ackedMs),
  );
  add(
    '… `silentFor` reported with `hung`',
    f.hang.map((h) => h.silentFor),
  );
  return lines.join('\n');
}

function throughputTable(r: ManagerPartResult): string {
  if (!r.throughput?.length) return '(skipped)';
  const base = r.throughput.find((t) => t.label === 'plain node:cluster');
  const lines = [row(['supervisor', 'req/s', 'slices (req/s)', '÷ plain cluster', 'failed']), row(['---', '---', '---', '---', '---'])];
  for (const t of r.throughput) {
    const failed = t.slices.reduce((n, s) => n + Object.values(s.failures).reduce((a, b) => a + b, 0), 0);
    lines.push(
      row([
        t.label,
        `**${t.rps.toFixed(0)}**`,
        t.slices.map((s) => s.rps.toFixed(0)).join(' / '),
        base ? `${((100 * t.rps) / base.rps).toFixed(0)}%` : '–',
        String(failed),
      ]),
    );
  }
  return lines.join('\n');
}

function reloadTable(r: ManagerPartResult): string {
  if (!r.reloads?.length) return '(skipped)';
  const lines = [
    row(['supervisor', 'client connections', 'reload took (ms)', 'requests ok', 'failed', 'failures by error']),
    row(['---', '---', '---', '---', '---', '---']),
  ];
  for (const x of r.reloads) {
    const failed = Object.values(x.load.failures).reduce((a, b) => a + b, 0);
    lines.push(
      row([
        x.label,
        x.mode === 'keep-alive' ? 'keep-alive (reused)' : 'new connection per request',
        x.reloadMs.toFixed(0),
        String(x.load.ok),
        `**${failed}**`,
        failed
          ? Object.entries(x.load.failures)
              .map(([code, n]) => `${code} ×${n}`)
              .join(', ')
          : '–',
      ]),
    );
  }
  return lines.join('\n');
}

function pm2Hang(r: ManagerPartResult): string {
  const h = r.pm2Hang;
  if (!h) return '- PM2 hang: (skipped)';
  const same = h.after && h.after.pid === h.before.pid && h.after.restarts === h.before.restarts;
  return (
    `- **PM2, measured once**: instance pid ${h.before.pid} SIGSTOPped, ${h.waitedMs / 1000} s later \`pm2 jlist\` shows it ` +
    `${h.after ? `pid ${h.after.pid}, status \`${h.after.status}\`, restarts ${h.after.restarts} (before: ${h.before.restarts})` : 'missing'}` +
    `${same ? ': **not detected, not restarted**' : ''}. Full list after the wait (instance:pid:status:restarts): \`${h.listed}\`.`
  );
}

export function managerSection(
  r: ManagerPartResult | null,
  header: { date: string; command: string; node: string; machine: string },
  figure: Figure = () => '',
): string {
  if (!r) return '';
  const f = r.failover;
  const p50 = (xs: number[]) => summarize(xs).p50;
  const verdicts: string[] = [];
  if (f?.primary.length) {
    const v = p50(f.primary.map((s) => s.ms));
    verdicts.push(`- Primary failover p50 ${formatMs(v)} ms: goal ≤ 50 ms **${v <= 50 ? 'met' : 'missed'}**.`);
  }
  if (f?.worker.length) {
    const boot = p50([...f.primary, ...f.worker].map((s) => s.bootMs));
    const v = p50(f.worker.map((s) => s.ms));
    verdicts.push(
      `- Worker replacement p50 ${formatMs(v)} ms against its own boot p50 ${formatMs(boot)} ms + 50 = ${formatMs(boot + 50)} ms: goal **${v <= boot + 50 ? 'met' : 'missed'}**` +
        ` (first-crash restart delay ${f.worker[0]?.delayMs} ms; the manager's own overhead is the “minus its own boot” row).`,
    );
  }
  const t = r.throughput;
  const m = t?.find((x) => x.label.startsWith('primacy'));
  const c = t?.find((x) => x.label === 'plain node:cluster');
  if (m && c)
    verdicts.push(
      `- Throughput: manager at ${((100 * m.rps) / c.rps).toFixed(0)}% of plain cluster: goal ≥ 95% **${m.rps >= 0.95 * c.rps ? 'met' : 'missed'}** (see the caveat on noise).`,
    );
  const mr = r.reloads?.filter((x) => x.label.startsWith('primacy')) ?? [];
  if (mr.length) {
    const failed = mr.reduce((n, x) => n + Object.values(x.load.failures).reduce((a, b) => a + b, 0), 0);
    verdicts.push(
      `- Reload with zero failed requests: **${failed === 0 ? 'met' : `missed (${failed} failed over ${mr.length} reloads)`}**.`,
    );
  }
  return `${BEGIN}
## Worker manager

From the run of ${header.date} (\`${header.command}\`, manager part ${(r.runtimeMs / 1000).toFixed(0)} s). PM2 ${r.pm2}.
Node ${header.node}, ${WORKERS} workers, on ${header.machine}.

### Failover under primacy's WorkerManager (ms)

The manager runs in its own process (\`bench/manager/manager-main.ts\`) over \`bench/manager/elect-app.ts\` (an HTTP
server on the shared port, acked on \`listening\`, plus \`elect({ name: 'jobs' })\` with its defaults, which under the
manager goes through the manager's arbiter). Manager options are the defaults (heartbeatInterval 1000, heartbeatTimeout
5000, backoffInitial 100 (the first restart is immediate), crash loop 5 per 10 s) except the crash-loop burst (1000, so
repeated kills never mark a slot FAILED) and \`backoff.stableAfter: ${f?.stableAfter ?? 1000}\` ms: with the default
30 s, every further kill of a slot within 30 s of its last restart doubles its delay (100, 200, 400 ms…), so each round
here is a “first crash”. Each round waits until 4 workers are acked and one is primary, and the victim has run
≥ stableAfter + 200 ms, then 200–400 ms more; the bench signals the victim's pid itself and times on the shared clock
against the events the manager and workers print (\`acked\`, \`exit\`, \`restarting\`, \`hung\`, \`elected\`, and each
worker's process start, \`performance.timeOrigin\`). Hang rounds: ${f?.hang.length || HANG_ROUNDS} (each takes the heartbeat timeout; not 20).

${failoverTable(r)}${figure('manager-failover')}

${verdicts.join('\n')}

Hung workers, compared:

- primacy: the rows above (heartbeatTimeout 5000 ms, watchdog every 500 ms; \`hung\` can come a little *before*
  5 s after the SIGSTOP because the silence counts from the last heartbeat, up to 1 s before the signal).
${pm2Hang(r)}
- gunicorn (quoted from ANCHORS.md, not measured): “gunicorn detects a hung worker after ~31 s (30 s timeout + 1 s loop)”.

### HTTP throughput (requests/s)

The same app (\`bench/manager/http-app.cjs\`: \`response.end('ok\\n')\`, 127.0.0.1) with ${WORKERS} workers under primacy's
manager, plain node:cluster (\`bench/manager/plain-cluster.ts\`) and PM2 cluster mode (\`pm2 start -i ${WORKERS}\`), all three
running at once on their own ports. Load: \`bench/manager/load.ts\`, a separate Node process with ${CONCURRENCY} concurrent
keep-alive connections (one \`http.Agent\`), each sending the next GET when the previous response has ended — a small
client instead of autocannon so the bench adds no dependency beyond PM2, and so the reload test can count exactly which
requests failed and why. ${THROUGHPUT_SLICES} slices of ${SLICE_MS} ms per supervisor (after 500 ms warm-up each), alternating
supervisor by supervisor, so a drift of the VM hits all alike; req/s = all ok responses ÷ all measured time.

${throughputTable(r)}${figure('manager-http')}

**Caveat**: 2 cores for the load generator, ${WORKERS} workers and the supervisors: the client competes with the server
for CPU, and slices of the same supervisor differ by up to ~30% on this VM (trial runs gave PM2 both above and below the
others), so differences under ~20% are noise, not a ranking. The manager's and plain cluster's workers run with
\`--import tsx\` (the manager's worker bootstrap is TypeScript in this checkout; plain cluster inherits the same flag),
PM2's with plain \`node\`; the app itself is CommonJS and needs no loader.

### Failed requests during a rolling reload of all ${WORKERS} workers

${RELOAD_CONCURRENCY} client loops send requests without pause; 1 s in, \`manager.reload()\` (over the manager process's
stdin) or \`pm2 reload bench\`; the client stops 1 s after it returned. Every request without a 200 is a failure (none
retried). Once with keep-alive connections reused, once with a new connection per request (\`Connection: close\`).

${reloadTable(r)}${figure('manager-reload')}

Errors of this part: ${r.errors.length ? r.errors.map((e) => `\`${e.slice(0, 200)}\``).join('; ') : 'none'}.
${f?.anomalies.length ? `\nAnomalies: ${f.anomalies.map((a) => `\`${a.slice(0, 200)}\``).join('; ')}\n` : ''}
${END}
`;
}

/** The manager section of an existing RESULTS.md, if it has one. */
export function existingSection(markdown: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  return start >= 0 && end > start ? `${markdown.slice(start, end + END.length)}\n` : '';
}

/** Puts `section` in place of the existing one, or before "## Run notes" (else at the end). */
export function spliceSection(markdown: string, section: string): string {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start >= 0 && end > start) return `${markdown.slice(0, start)}${section.trimEnd()}${markdown.slice(end + END.length)}`;
  const notes = markdown.indexOf('## Run notes');
  if (notes >= 0) return `${markdown.slice(0, notes)}${section}\n${markdown.slice(notes)}`;
  return `${markdown.trimEnd()}\n\n${section}`;
}
