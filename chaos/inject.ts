/**
 * Carries out the fault schedule: at each planned time, resolves the target (the primary, a
 * follower, some Redis nodes) from the run's state and injects the fault, recording when it began
 * and ended. Faults never overlap: each one is over (resumed, restarted) before the next begins.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from './backend.js';
import type { PlannedFault } from './faults.js';
import type { Fleet } from './fleet.js';
import type { FaultRecord } from './log.js';
import { hostNow } from './protocol.js';
import type { Member, Recorder } from './recorder.js';

export interface Injector {
  fleet: Fleet;
  backend: Backend;
  recorder: Recorder;
  ttl: number;
  signal: AbortSignal;
  progress: (message: string) => void;
}

export async function runSchedule(plan: readonly PlannedFault[], phaseStart: number, deps: Injector): Promise<void> {
  for (const fault of plan) {
    const wait = phaseStart + fault.at - hostNow();
    if (wait > 0) await sleep(wait, undefined, { signal: deps.signal });
    await inject(fault, deps, phaseStart);
  }
}

/** The primary, waiting for one if a failover is still under way (null if none comes in time). */
async function primary(deps: Injector): Promise<Member | null> {
  const until = hostNow() + 2 * deps.ttl + 2000;
  for (;;) {
    const member = deps.recorder.primary();
    if (member && deps.recorder.targets().includes(member)) return member;
    if (hostNow() > until) return null;
    await sleep(20, undefined, { signal: deps.signal });
  }
}

async function inject(fault: PlannedFault, deps: Injector, phaseStart: number): Promise<void> {
  const { fleet, backend, recorder, signal } = deps;
  const { kind, duration, pick } = fault;
  const say = (target: string) =>
    deps.progress(`+${((hostNow() - phaseStart) / 1000).toFixed(1)} s  ${kind} ${target}${duration ? ` for ${duration} ms` : ''}`);
  const record = (fields: Pick<FaultRecord, 'at' | 'end' | 'target'>, primaryPid: number | null) => {
    recorder.faults.push({ kind, primary: primaryPid, ...fields });
  };

  const hit = Math.floor(pick * backend.nodes);
  const nodes = kind.startsWith('majority-') ? [0, 1, 2].filter((i) => i !== hit) : [hit];
  if (kind.endsWith('-restart-primary-stopped')) {
    const target = await primary(deps);
    if (!target) return deps.progress(`skipped ${kind}: no primary to hit`);
    say(`pid ${target.pid} + node ${nodes.join('+')}`);
    const at = hostNow();
    fleet.stop(target.pid);
    await backend.down(nodes);
    await backend.up(nodes);
    const rest = at + duration - hostNow();
    if (rest > 0) await sleep(rest, undefined, { signal });
    fleet.resume(target.pid);
    recorder.paused({ pid: target.pid, from: at, to: hostNow(), cause: 'stop' });
    record({ at, end: hostNow(), target: `pid ${target.pid} + node ${nodes.join('+')}` }, target.pid);
    return;
  }
  if (kind.startsWith('redis-') || kind.startsWith('minority-') || kind.startsWith('majority-')) {
    const primaryPid = recorder.primary()?.pid ?? null;
    say(`node ${nodes.join('+')}`);
    const at = hostNow();
    if (kind.endsWith('-pause')) backend.pause(nodes);
    else await backend.down(nodes);
    await sleep(duration, undefined, { signal });
    if (kind.endsWith('-pause')) backend.resume(nodes);
    else await backend.up(nodes);
    record({ at, end: hostNow(), target: `node ${nodes.join('+')}` }, primaryPid);
    return;
  }

  const onPrimary = kind.includes('-primary');
  const current = onPrimary ? await primary(deps) : recorder.primary();
  const followers = recorder.targets().filter((m) => m !== current);
  const target = onPrimary ? current : followers[Math.floor(pick * followers.length)];
  if (!target) return deps.progress(`skipped ${kind}: no ${onPrimary ? 'primary' : 'follower'} to hit`);
  const primaryPid = current?.pid ?? null;
  say(`pid ${target.pid}`);
  const at = hostNow();
  if (kind.startsWith('kill-')) fleet.kill(target.pid);
  else if (kind.startsWith('restart-')) fleet.terminate(target.pid);
  else if (kind.startsWith('busy-')) {
    fleet.busy(target.pid, duration);
    await sleep(duration, undefined, { signal });
  } else {
    fleet.stop(target.pid);
    await sleep(duration, undefined, { signal });
    fleet.resume(target.pid);
    recorder.paused({ pid: target.pid, from: at, to: hostNow(), cause: 'stop' });
  }
  record({ at, end: kind.startsWith('kill-') || kind.startsWith('restart-') ? at : hostNow(), target: `pid ${target.pid}` }, primaryPid);
}
