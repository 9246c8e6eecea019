import type { RunOutcome } from '../adapter.js';

/** The outcome in `text`, or null when it is not one (a foreign or garbled file reads as "never ran"). */
export function parseOutcome(text: string | null | undefined): RunOutcome | null {
  try {
    const outcome = JSON.parse(text ?? '') as RunOutcome;
    const ok = (outcome?.status === 'completed' || outcome?.status === 'failed') && Number.isSafeInteger(outcome.token);
    return ok ? outcome : null;
  } catch {
    return null;
  }
}
