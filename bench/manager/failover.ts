/**
 * Failover under primacy's WorkerManager, 4 workers of elect-app.ts: SIGKILL of a non-primary
 * worker → its slot's replacement acked; SIGKILL of the primary → another worker elected; SIGSTOP
 * of a worker → `hung` → replacement acked. One manager process (manager-main.ts) for all rounds;
 * signals are sent from this process and timed on the shared clock.
 */

import { Child } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { warningLines } from '../field.js';
import { benchScript } from './scripts.js';

export interface KillSample {
  /** signal → the figure of the phase (acked replacement, or new primary elected). */
  ms: number;
  /** signal → the manager's `exit` event for the victim. */
  exitMs: number;
  /** The restart delay the manager announced (`restarting`), i.e. its backoff. */
  delayMs: number;
  /** signal → the replacement process started (its performance.timeOrigin). */
  forkMs: number;
  /** The replacement's own boot: process start → acked. */
  bootMs: number;
  /** signal → replacement acked (for the primary phase; equals `ms` for the worker phase). */
  replacedMs: number;
}

export interface HangSample {
  hungMs: number;
  ackedMs: number;
  silentFor: number;
}

export interface ManagerFailoverResult {
  workers: number;
  stableAfter: number;
  /** Boot (process start → acked) of the initial workers, started together. */
  startBootMs: number[];
  worker: KillSample[];
  primary: KillSample[];
  hang: HangSample[];
  anomalies: string[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface SlotView {
  name: string;
  pid: number;
  ackedAt: number;
}

export async function measureManagerFailover(options: {
  dir: string;
  port: number;
  rounds: number;
  hangRounds: number;
  phases: { worker: boolean; primary: boolean; hang: boolean };
  log: (line: string) => void;
}): Promise<ManagerFailoverResult> {
  const { dir, port, rounds, hangRounds, phases, log } = options;
  const WORKERS = 4;
  // Default options but stableAfter: with the default 30 s every kill of a slot within 30 s of its
  // last restart doubles the backoff; 1 s keeps each round a "first crash" (delay = backoffInitial 100 ms).
  const stableAfter = 1000;
  const begun = wallNow();
  const manager = new Child(benchScript('manager-main.ts'), [
    benchScript('elect-app.ts'),
    String(WORKERS),
    String(stableAfter),
    dir,
    String(port),
    // Rounds kill a slot every ~1.5 s: with the default limit (5 exits in 10 s) a slot would be
    // marked FAILED (correctly) and the round would wait forever for its replacement.
    '1000',
  ]);
  const anomalies: string[] = [];
  const killed = new Set<number>();
  const stopped = new Set<number>();
  try {
    const started = await manager.waitFor((e) => e.ev === 'started', 60_000, 0, 'manager started');
    const up = (pid: number) => manager.events.find((e) => e.ev === 'up' && e.pid === pid);
    const startBootMs = manager.events
      .filter((e) => e.ev === 'acked' && e.t <= started.t)
      .map((e) => e.t - ((up(e.workerPid as number)?.origin as number) ?? Number.NaN));

    const slots = (): SlotView[] => {
      const view = new Map<string, SlotView>();
      for (const e of manager.events)
        if (e.ev === 'acked') view.set(e.name as string, { name: e.name as string, pid: e.workerPid as number, ackedAt: e.t });
      return [...view.values()];
    };
    const primaryPid = (): number | undefined => {
      let pid: number | undefined;
      for (const e of manager.events) {
        if (e.ev === 'elected') pid = e.pid as number;
        else if (e.ev === 'revoked' && e.pid === pid) pid = undefined;
      }
      return pid !== undefined && !killed.has(pid) ? pid : undefined;
    };
    /** 4 live acked workers, a live primary, and the victim's slot has run ≥ stableAfter + 200 ms. */
    const settle = async (pick: (live: SlotView[], primary: number) => SlotView | undefined): Promise<SlotView> => {
      const deadline = wallNow() + 30_000;
      for (;;) {
        const live = slots().filter((s) => !killed.has(s.pid));
        const primary = primaryPid();
        const victim = live.length === WORKERS && primary !== undefined ? pick(live, primary) : undefined;
        if (victim) {
          const wait = victim.ackedAt + stableAfter + 200 - wallNow();
          await sleep(Math.max(0, wait) + 200 + Math.random() * 200);
          if (primaryPid() !== undefined && slots().filter((s) => !killed.has(s.pid)).length === WORKERS) return victim;
        } else if (wallNow() > deadline) throw new Error(`manager field never settled: ${JSON.stringify(slots())}, primary ${primary}`);
        else await sleep(20);
      }
    };
    const oldestNonPrimary = (live: SlotView[], primary: number) =>
      live.filter((s) => s.pid !== primary).sort((a, b) => a.ackedAt - b.ackedAt)[0];

    const killRound = async (victim: SlotView, expectElection: boolean): Promise<KillSample> => {
      const from = manager.events.length;
      const t0 = wallNow();
      killed.add(victim.pid);
      process.kill(victim.pid, 'SIGKILL');
      const acked = await manager.waitFor((e) => e.ev === 'acked' && e.name === victim.name, 30_000, from, `replacement of ${victim.name}`);
      const exit = await manager.waitFor((e) => e.ev === 'exit' && e.name === victim.name, 1000, from, 'exit');
      const restarting = await manager.waitFor((e) => e.ev === 'restarting' && e.name === victim.name, 1000, from, 'restarting');
      const origin = (await manager.waitFor((e) => e.ev === 'up' && e.pid === acked.workerPid, 1000, 0, 'up')).origin as number;
      let ms = acked.t - t0;
      if (expectElection) {
        const elected = await manager.waitFor((e) => e.ev === 'elected' && e.pid !== victim.pid, 30_000, from, 'new primary');
        ms = elected.t - t0;
        if (elected.pid === acked.workerPid)
          anomalies.push(`primary kill: the replacement of the victim's slot was elected (${formatRel(elected.t - t0)})`);
      } else {
        const elections = manager.events.slice(from).filter((e) => e.ev === 'elected' || e.ev === 'revoked');
        if (elections.length)
          anomalies.push(`non-primary kill of ${victim.name} changed the primary: ${elections.map((e) => e.ev).join(', ')}`);
      }
      return {
        ms,
        exitMs: exit.t - t0,
        delayMs: restarting.delay as number,
        forkMs: origin - t0,
        bootMs: acked.t - origin,
        replacedMs: acked.t - t0,
      };
    };

    const primary: KillSample[] = [];
    if (phases.primary) {
      log(`manager: SIGKILL the primary worker × ${rounds}`);
      for (let i = 0; i < rounds; i++) {
        const victim = await settle((live, p) => live.find((s) => s.pid === p));
        primary.push(await killRound(victim, true));
      }
    }
    const worker: KillSample[] = [];
    if (phases.worker) {
      log(`manager: SIGKILL a non-primary worker × ${rounds}`);
      for (let i = 0; i < rounds; i++) worker.push(await killRound(await settle(oldestNonPrimary), false));
    }
    const hang: HangSample[] = [];
    if (phases.hang) {
      log(`manager: SIGSTOP a non-primary worker × ${hangRounds} (heartbeat defaults 1000 / 5000 ms)`);
      for (let i = 0; i < hangRounds; i++) {
        const victim = await settle(oldestNonPrimary);
        const from = manager.events.length;
        const t0 = wallNow();
        stopped.add(victim.pid);
        killed.add(victim.pid);
        process.kill(victim.pid, 'SIGSTOP');
        const hung = await manager.waitFor((e) => e.ev === 'hung' && e.name === victim.name, 30_000, from, `hung ${victim.name}`);
        const acked = await manager.waitFor(
          (e) => e.ev === 'acked' && e.name === victim.name,
          30_000,
          from,
          `replacement of ${victim.name}`,
        );
        hang.push({ hungMs: hung.t - t0, ackedMs: acked.t - t0, silentFor: hung.silentFor as number });
      }
    }
    for (const e of manager.events) if (e.ev === 'failed' || e.ev === 'unhealthy') anomalies.push(`${e.ev} ${e.name}: ${String(e.reason)}`);
    const stderr = warningLines(manager).filter((line) => line.trim());
    if (stderr.length) anomalies.push(`manager/worker stderr (${stderr.length} lines), first: ${stderr[0]?.slice(0, 200)}`);
    return { workers: WORKERS, stableAfter, startBootMs, worker, primary, hang, anomalies, durationMs: wallNow() - begun };
  } finally {
    await manager.stop();
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  }
}

const formatRel = (ms: number) => `${ms.toFixed(1)} ms after the kill`;
