/**
 * `clock-step-primary`, `clock-step-follower`, `clock-step-all`: the wall clock of the primary, of
 * one follower, or of every process on the "host" (all candidates and the manager) steps by
 * ±10–15 s, as an NTP step or a VM resume does, holds for 1–2 TTLs (renews, polls and records run on
 * the stepped clock), then steps back to true. Stepping back every time keeps offsets from piling up
 * across faults and gives each fault both directions. The monotonic clock does not move (clock.ts).
 */

import { hostNow } from '../harness/clock.js';
import { setClockOffset } from './clock.js';
import type { Hit } from './hit.js';

export async function clockStep(hit: Hit): Promise<void> {
  const { recorder, fleet, clockDir } = hit.deps;
  if (clockDir === undefined) return hit.skip('the clock shim is not loaded');
  const current = hit.kind === 'clock-step-primary' ? await hit.primary() : recorder.primary();
  let pids: number[];
  if (hit.kind === 'clock-step-primary') pids = current ? [current.pid] : [];
  else if (hit.kind === 'clock-step-follower') {
    const followers = recorder.targets().filter((m) => m !== current);
    const follower = followers[Math.floor(hit.fault.pick * followers.length)];
    pids = follower ? [follower.pid] : [];
  } else pids = [...recorder.live().map((m) => m.pid), ...fleet.helperPids()];
  if (pids.length === 0) return hit.skip(`no ${hit.kind === 'clock-step-follower' ? 'follower' : 'primary'} to hit`);
  const { step } = hit.fault;
  const duration = hit.duration(current);
  const target = `${hit.kind === 'clock-step-all' ? 'all' : `pid ${pids[0]}`} by ${step > 0 ? '+' : ''}${step} ms`;
  hit.say(target, duration);
  const at = hostNow();
  for (const pid of pids) setClockOffset(clockDir, pid, step);
  try {
    await hit.sleep(duration);
  } finally {
    for (const pid of pids) setClockOffset(clockDir, pid, 0);
  }
  hit.record({ at, end: hostNow(), target }, current?.pid ?? null);
}
