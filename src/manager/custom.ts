/** Custom managed processes (`manager.manage()`): their options and their slots. */
import { PrimacyError } from '../errors.js';
import { type CustomProcess, createSlot, type Slot } from './incarnation.js';
import type { RestartPolicy } from './restart-policy.js';

export type ManageOptions = { args?: string[]; workers?: number } & Partial<Omit<CustomProcess, 'module' | 'args'>>;

/** New slots for `count` copies of a custom process, refusing a name already in use. */
export function customSlots(name: string, module: string, options: ManageOptions, existing: Slot[], policy: () => RestartPolicy): Slot[] {
  const count = options.workers ?? 1;
  if (!Number.isInteger(count) || count < 1) {
    throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] Expected \`workers\` >= 1 for ${name}, got ${count}`);
  }
  if (typeof module !== 'string' || module === '')
    throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] ${name} needs a module path`);
  if (existing.some((slot) => slot.name === name || slot.name.startsWith(`${name}-`))) {
    throw new PrimacyError('ERR_PRIMACY_MANAGER', `[primacy] [manager] a process named "${name}" is already managed`);
  }
  const custom: CustomProcess = {
    module,
    args: options.args ?? [],
    transient: options.transient ?? false,
    tracked: options.tracked ?? true,
    restartable: options.restartable ?? true,
  };
  return Array.from({ length: count }, (_, i) => createSlot(i, policy(), count === 1 ? name : `${name}-${i}`, custom));
}
