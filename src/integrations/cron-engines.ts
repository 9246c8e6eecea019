import { createRequire } from 'node:module';
import { PrimacyConfigError } from '../errors.js';

/** The cron libraries `scheduleWhilePrimary` can drive; both are optional peer dependencies. */
export type CronEngine = 'croner' | 'node-cron';

export interface EngineOptions {
  timezone?: string | undefined;
  name?: string | undefined;
  protect?: boolean | undefined;
}

/** A started job of either library, reduced to what the election needs. */
export interface EngineJob {
  stop(): void;
}

/** Starts `pattern` on the engine; `onTick` receives the time the engine fired the run. */
export type StartJob = (onTick: (firedAt: Date) => void) => EngineJob;

// Loaded synchronously (both ship CommonJS), so a missing package or a bad pattern is an error
// at the call, not a log line once this process happens to be elected.
const requireFromHere = createRequire(import.meta.url);

function load<T>(engine: CronEngine): T {
  try {
    return requireFromHere(engine) as T;
  } catch (cause) {
    const error = new PrimacyConfigError('engine', engine, `an installed package (npm install ${engine})`, 'cron');
    error.cause = cause;
    throw error;
  }
}

interface CronerModule {
  Cron: new (
    pattern: string,
    options: Record<string, unknown>,
    fn?: (self: { currentRun(): Date | null }) => void,
  ) => { stop(): void; nextRun(): Date | null };
}

interface NodeCronModule {
  validate(pattern: string): boolean;
  schedule(pattern: string, fn: (context: unknown) => void, options: Record<string, unknown>): { stop(): unknown; destroy?(): unknown };
}

/**
 * Validates `pattern` and `timezone` now (an engine refuses a bad time zone only when the job
 * starts: on the primary, once elected) and returns a function that starts the job (once per term).
 */
export function prepareJob(engine: CronEngine, pattern: string, options: EngineOptions): StartJob {
  const settings = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const { timezone } = options;
  if (timezone !== undefined && (typeof timezone !== 'string' || timezone.trim() === '')) {
    throw new PrimacyConfigError('timezone', timezone, "an IANA time zone name such as 'Europe/Paris'", 'cron');
  }
  if (engine === 'croner') {
    const { Cron } = load<CronerModule>('croner');
    // Each alone, so the error names the option at fault.
    check('pattern', pattern, 'a cron pattern croner accepts', () => new Cron(pattern, { paused: true }).stop());
    if (timezone !== undefined) {
      // croner resolves the zone only when it computes a run, so ask it for one.
      check('timezone', timezone, 'a time zone croner accepts', () => {
        const probe = new Cron('* * * * *', { timezone, paused: true });
        probe.nextRun();
        probe.stop();
      });
    }
    return (onTick) => new Cron(pattern, settings, (self) => onTick(self.currentRun() ?? new Date()));
  }
  const nodeCron = load<NodeCronModule>('node-cron');
  if (!nodeCron.validate(pattern)) throw new PrimacyConfigError('pattern', pattern, 'a cron pattern node-cron accepts', 'cron');
  // node-cron has no check of its own and resolves time zones with Intl, as this does.
  if (timezone !== undefined) {
    check('timezone', timezone, 'a time zone node-cron accepts', () => new Intl.DateTimeFormat('en-US', { timeZone: timezone }));
  }
  const { protect, ...rest } = settings;
  return (onTick) => {
    // node-cron 4 hands a context with `date`; node-cron 3 hands the Date itself.
    const task = nodeCron.schedule(pattern, (context) => onTick(tickDate(context)), { ...rest, noOverlap: protect === true });
    return { stop: () => void (task.destroy ? task.destroy() : task.stop()) };
  };
}

function check(option: string, value: string, expected: string, attempt: () => unknown): void {
  try {
    attempt();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new PrimacyConfigError(option, value, `${expected} (${detail})`, 'cron');
  }
}

function tickDate(context: unknown): Date {
  if (context instanceof Date) return context;
  const date = (context as { date?: unknown } | undefined)?.date;
  return date instanceof Date ? date : new Date();
}
