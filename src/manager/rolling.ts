/**
 * Zero-downtime replacement (`restart()`, `reload()`, a memory limit, `--watch`) and resizing: a slot's new
 * process starts and acks first, then the old one is retired (drained, stepped down, stopped). If
 * the new process never acks, it is killed and the old one keeps serving.
 */
import { PrimacyError } from '../errors.js';
import type { Slot } from './incarnation.js';
import type { ManagerSteps } from './steps.js';
import { terminate } from './stop-process.js';

/** Replaces `slot`'s process; rejects (the old one serving on) if the new one did not ack. */
export async function replaceWithoutDowntime(slot: Slot, steps: Pick<ManagerSteps, 'spawn' | 'retire' | 'killTimeout'>): Promise<void> {
  const old = slot.current;
  slot.rolling = true;
  try {
    const next = steps.spawn(slot);
    if (!(await next.acked)) {
      slot.current = old;
      next.draining = true;
      await terminate(next, 'SIGKILL', steps.killTimeout(slot));
      throw new PrimacyError(
        'ERR_PRIMACY_RESTART',
        `[primacy] [manager] restart of ${slot.name} aborted: its new process did not ack; the old one keeps serving`,
      );
    }
    slot.reloads++;
    if (old) await steps.retire(old);
  } finally {
    slot.rolling = false;
  }
}

/**
 * Replaces these slots one at a time, stopping at the first that fails. Their current processes
 * are marked outgoing meanwhile: never granted a lock, so the lease moves once, to a new process.
 */
export async function replaceEach(slots: Slot[], restart: (name: string) => Promise<void>): Promise<void> {
  const outgoing = slots.flatMap((slot) => (slot.current ? [slot.current] : []));
  for (const incarnation of outgoing) incarnation.outgoing = true;
  try {
    for (const slot of slots) await restart(slot.name);
  } finally {
    // A reload that stopped at a failed restart leaves the old processes serving: eligible again.
    for (const incarnation of outgoing) incarnation.outgoing = false;
  }
}

/**
 * Grows or shrinks the server slots to `count`: new slots started (resolves once they acked),
 * the highest ones retired (drained, stepped down, stopped) and dropped.
 */
export async function resize(slots: Slot[], count: number, steps: Pick<ManagerSteps, 'spawn' | 'retire' | 'newSlot'>): Promise<void> {
  const added = [];
  for (let index = slots.length; index < count; index++) added.push(steps.spawn(steps.newSlot(index)));
  const removed = slots.slice(count);
  for (const slot of removed) slot.retiring = true;
  await Promise.all([
    ...added.map((incarnation) => incarnation.acked),
    ...removed.map((slot) => (slot.current ? steps.retire(slot.current) : undefined)),
  ]);
  slots.length = Math.min(slots.length, count);
}
