/**
 * The kill/measure loop. Four contenders share one lock; each round waits until the field is
 * settled (four ready, exactly one holder), lets it sit a random 200–400 ms (so pollers are at a
 * random phase of their cycle), signals the holder and times how long until another contender
 * reports `acquired`. Then a replacement is spawned so four remain, and the next round starts.
 */
import { wallNow } from '../harness/clock.js';
import { busyShare, cpuSnapshot } from './cpu.js';
import { type Contender, type ContenderSpec, Field } from './field.js';
import { type OverlapReport, overlapReport } from './overlaps.js';

export type KillSignal = 'SIGKILL' | 'SIGTERM';

/** A kind of contender the bench measures (a library with given settings). */
export interface Kind {
  /** For BENCH_ONLY. */
  id: string;
  label: string;
  settings: string;
  /** The contender to spawn for one phase: `dir` is the run's temp dir, `phase` names a fresh lock. */
  spec: (dir: string, phase: string) => ContenderSpec;
  /** Longest legitimate wait for a failover or a settled field, with room for a slow machine. */
  patienceMs: number;
}

/** One kind's results, both signals. */
export interface ContenderRun {
  label: string;
  settings: string;
  results: Partial<Record<KillSignal, FailoverResult>>;
}

/** SIGKILL rounds, then SIGTERM rounds, of one kind, each phase on a lock of its own. */
export async function measureKind(
  kind: Kind,
  dir: string,
  options: { rounds: number; contenders: number; log: (line: string) => void },
): Promise<ContenderRun> {
  const { rounds, contenders, log } = options;
  const run: ContenderRun = { label: kind.label, settings: kind.settings, results: {} };
  for (const signal of ['SIGKILL', 'SIGTERM'] as KillSignal[]) {
    const phase = `${kind.id}-${signal.toLowerCase()}`;
    log(`${kind.label}: ${signal} × ${rounds}`);
    run.results[signal] = await measureFailover({
      spec: kind.spec(dir, phase),
      signal,
      rounds,
      contenders,
      patienceMs: kind.patienceMs,
      log: (line) => log(`${kind.label} ${line}`),
    });
  }
  return run;
}

export interface FailoverOptions {
  spec: ContenderSpec;
  signal: KillSignal;
  rounds: number;
  contenders: number;
  /** Longest wait for a settled field or a failover before the bench gives up. */
  patienceMs: number;
  log: (line: string) => void;
}

/**
 * One round, step by step, in ms from the moment the bench sent the signal (the sample itself runs
 * to the new holder's own `acquired` stamp: the moment it became primary).
 */
export interface RoundTiming {
  /** To the signalled holder's own `released`/`lost` stamp (primacy: `revoked`, isPrimary false); null when it reported none (SIGKILL). */
  stepDownMs: number | null;
  /** To the moment the bench process read the new holder's `acquired` line: what a harness outside the contenders sees. */
  seenMs: number;
  /** To the moment the bench saw the signalled process exit. */
  exitMs: number | null;
}

export interface FailoverResult {
  signal: KillSignal;
  /** Signal sent → next `acquired` elsewhere (the new holder's own stamp), ms, one per round. */
  samples: number[];
  /** The same rounds step by step (absent in runs recorded before it was measured). */
  rounds?: RoundTiming[];
  /** Share of the machine's CPU time busy during the phase, 0–1 (absent in older runs). */
  cpuBusy?: number;
  overlaps: OverlapReport;
  /** Things a reader should know (a SIGTERMed holder that never reported its release, ...). */
  anomalies: string[];
  /** Smallest `received - t` over every event: a negative value would mean the clocks disagree. */
  minDeliveryMs: number;
  spawned: number;
  warnings: string[];
  /** `error` events the contenders reported (failed lock attempts other than "held", failed releases). */
  errors: string[];
  durationMs: number;
}

export async function measureFailover(options: FailoverOptions): Promise<FailoverResult> {
  const { spec, signal, rounds, contenders, patienceMs, log } = options;
  const started = wallNow();
  const cpuAtStart = cpuSnapshot();
  const field = new Field(spec);
  const samples: number[] = [];
  const timings: RoundTiming[] = [];
  const anomalies: string[] = [];
  try {
    for (let i = 0; i < contenders; i++) field.spawn();
    for (let round = 1; round <= rounds; round++) {
      const victim = await holdSettled(field, contenders, patienceMs);
      const seen = new Map(field.live.map((c) => [c, c.events.length]));
      const killedAt = victim.signal(signal);
      // The first `acquired` any other contender sends after the signal is the failover.
      const winner = await field.waitFor(`failover after ${signal}`, patienceMs, () => {
        for (const [c, from] of seen) {
          if (c === victim) continue;
          const event = c.events.slice(from).find((e) => e.ev === 'acquired');
          if (event) return event;
        }
        return undefined;
      });
      samples.push(winner.t - killedAt);
      log(`${signal} round ${round}/${rounds}: ${(winner.t - killedAt).toFixed(2)} ms`);
      const fromVictim = seen.get(victim) ?? 0;
      await victimGone(victim, anomalies);
      const stepDown = victim.events.slice(fromVictim).find((e) => e.ev === 'released' || e.ev === 'lost');
      timings.push({
        stepDownMs: stepDown ? stepDown.t - killedAt : null,
        seenMs: winner.received - killedAt,
        exitMs: victim.exit ? victim.exit.t - killedAt : null,
      });
      if (signal === 'SIGTERM' && !victim.events.some((e) => e.ev === 'released')) {
        anomalies.push(`round ${round}: the SIGTERMed holder (pid ${victim.pid}) exited without reporting a release`);
      }
      field.spawn();
    }
  } finally {
    await field.killAll();
  }
  const phaseEnd = wallNow();
  const events = field.contenders.flatMap((c) => c.events);
  return {
    signal,
    samples,
    rounds: timings,
    cpuBusy: busyShare(cpuAtStart, cpuSnapshot()),
    overlaps: overlapReport(field.contenders, phaseEnd, started),
    anomalies,
    minDeliveryMs: Math.min(...events.map((e) => e.received - e.t)),
    spawned: field.contenders.length,
    warnings: field.contenders.flatMap((c) => c.stderr),
    errors: events.filter((e) => e.ev === 'error').map((e) => `${e.detail ?? ''}`),
    durationMs: phaseEnd - started,
  };
}

/** Waits for a settled field, then holds it a random 200–400 ms; returns the holder to signal. */
async function holdSettled(field: Field, size: number, patienceMs: number): Promise<Contender> {
  for (;;) {
    const holder = await field.waitFor('a settled field', patienceMs, () => settledHolder(field, size));
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 200));
    // Still the same picture after the pause? Otherwise settle again.
    if (settledHolder(field, size) === holder) return holder;
  }
}

function settledHolder(field: Field, size: number): Contender | undefined {
  const live = field.live;
  if (live.length !== size || !live.every((c) => c.ready)) return undefined;
  const holders = field.contenders.filter((c) => c.holding);
  return holders.length === 1 && live.includes(holders[0] as Contender) ? holders[0] : undefined;
}

/** The victim must be gone before its replacement starts; a SIGTERMed one gets 15 s to exit. */
async function victimGone(victim: Contender, anomalies: string[]): Promise<void> {
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
  if ((await Promise.race([victim.closed, timeout])) === 'timeout') {
    anomalies.push(`pid ${victim.pid} did not exit within 15 s of ${victim.signalled?.signal}; SIGKILLed`);
    victim.signal('SIGKILL');
    await victim.closed;
  }
}
