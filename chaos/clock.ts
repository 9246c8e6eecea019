/**
 * Wall-clock steps for the `clock-step-*` kinds: clock-shim.c, built with `cc` into the run's work
 * dir and LD_PRELOADed into the candidates, adds to their wall clock the offset (ms) written in
 * `<dir>/clock-<pid>`. Their monotonic clock, which the leases and every chaos stamp use, is untouched.
 *
 * Built by the suite itself rather than taken from libfaketime, so a machine needs only a C compiler
 * (gcc is everywhere here), not an extra package. Without one the clock kinds cannot run: under
 * CI=true that fails the run; elsewhere the kinds are left out of the schedule, loudly.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultKind } from './faults.js';

const SOURCE = join(import.meta.dirname, 'clock-shim.c');

export class ShimBuildError extends Error {
  override readonly name = 'ShimBuildError';
}

/** Compiles the shim into `dir` and returns its path; throws ShimBuildError if it cannot. */
export function buildClockShim(dir: string, compiler = process.env.CC ?? 'cc'): string {
  const output = join(dir, 'clock-shim.so');
  try {
    execFileSync(compiler, ['-shared', '-fPIC', '-O2', '-Wall', '-o', output, SOURCE, '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new ShimBuildError(
      `cannot build the clock shim with \`${compiler}\` (${stderr || (error as Error).message}); install a C compiler (apt-get install gcc)`,
    );
  }
  return output;
}

/** What a process needs in its environment to run with the shim, its offsets read from `dir`. */
export function shimEnv(shim: string, dir: string): NodeJS.ProcessEnv {
  const preload = [shim, process.env.LD_PRELOAD].filter(Boolean).join(':');
  return { LD_PRELOAD: preload, PRIMACY_CLOCK_DIR: dir };
}

/** Sets a process's wall-clock offset (ms, signed); it sees the step within ~5 ms. */
export function setClockOffset(dir: string, pid: number, offsetMs: number): void {
  writeFileSync(join(dir, `clock-${pid}`), String(Math.round(offsetMs)));
}

export interface ClockSetup {
  /** Environment for the fleet (empty if no clock kind runs). */
  env: NodeJS.ProcessEnv;
  /** Where offsets go, if the shim is loaded. */
  dir: string | undefined;
  /** The kinds to schedule: without the clock kinds if the shim could not be built outside CI. */
  kinds: FaultKind[];
}

/** Builds and loads the shim if a clock kind is among `kinds`; see the header for a missing compiler. */
export function setUpClock(workDir: string, kinds: readonly FaultKind[], warn: (message: string) => void, compiler?: string): ClockSetup {
  const isClock = (kind: FaultKind) => kind.startsWith('clock-step-');
  if (!kinds.some(isClock)) return { env: {}, dir: undefined, kinds: [...kinds] };
  try {
    return { env: shimEnv(buildClockShim(workDir, compiler), workDir), dir: workDir, kinds: [...kinds] };
  } catch (error) {
    if (!(error instanceof ShimBuildError) || process.env.CI === 'true') throw error;
    const rest = kinds.filter((kind) => !isClock(kind));
    if (rest.length === 0) throw error;
    warn(`WARNING: ${error.message}. This run leaves out the clock-step kinds (under CI=true it fails instead).`);
    return { env: {}, dir: undefined, kinds: rest };
  }
}
