/**
 * The recorded dataset of `npm run bench`: bench/results.json. RESULTS.md and every chart in
 * bench/charts/ are rendered from it alone (bench/render.ts), so a reader can regenerate the report
 * without re-measuring, and the figures in the prose, the tables and the charts cannot disagree.
 *
 * `main` is the file and Redis parts of one run, `manager` the worker-manager part: that part can
 * run alone, so the two may come from different runs, each with its own environment and command.
 * Both keep the measurement modules' own result objects, with every per-round and per-slice sample.
 * `measures` is a flat view of the same samples (one entry per chart), derived from `main` and
 * `manager` and recomputed on every render; it is there for readers who want the numbers without
 * learning the result objects.
 */
import { readFile } from 'node:fs/promises';
import type { Environment } from './environment.js';
import type { ManagerPartResult } from './manager/part.js';
import { type Measure, measuresOf } from './measures.js';
import type { BenchRun } from './report.js';

export const SCHEMA = 1;

/** The file and Redis parts of one run: everything in RESULTS.md but the "Worker manager" section. */
export interface MainRun extends BenchRun {
  /** The command that ran it, e.g. `BENCH_ONLY=file npm run bench`. */
  command: string;
}

export interface ManagerRun {
  env: Environment;
  command: string;
  result: ManagerPartResult;
}

export interface BenchResults {
  schema: typeof SCHEMA;
  about: string;
  main: MainRun | null;
  manager: ManagerRun | null;
  measures: Measure[];
}

const ABOUT =
  'Written by `npm run bench` (bench/run.ts). `main`: file and Redis parts; `manager`: worker-manager part (may be a separate run). ' +
  '`measures`: the samples behind each chart in charts/, derived from both. Re-render RESULTS.md and charts/ from this file with ' +
  '`node --import tsx bench/render.ts` (or `BENCH_RENDER_ONLY=1 npm run bench`).';

export function assemble(main: MainRun | null, manager: ManagerRun | null): BenchResults {
  return { schema: SCHEMA, about: ABOUT, main, manager, measures: measuresOf(main, manager) };
}

/**
 * JSON has no NaN or Infinity (a reload that failed leaves `reloadMs` NaN; `minDeliveryMs` of a
 * phase without events is Infinity): they are written as strings and read back as numbers, so a
 * re-render shows `n/a` where the live run did instead of crashing on `null.toFixed`.
 */
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

export function serialize(results: BenchResults): string {
  const replacer = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value);
  return `${JSON.stringify(results, replacer, 2)}\n`;
}

export function parse(text: string): BenchResults {
  const reviver = (_key: string, value: unknown) => (typeof value === 'string' && NON_FINITE.has(value) ? Number(value) : value);
  const data = JSON.parse(text, reviver) as Partial<BenchResults>;
  if (data.schema !== SCHEMA) throw new Error(`results.json: schema ${String(data.schema)}, this checkout reads ${SCHEMA}`);
  // Measures are derived data: recompute them, so a fix to the derivation applies to recorded runs too.
  return assemble(data.main ?? null, data.manager ?? null);
}

/** The recorded dataset at `path`, or null when there is none yet. */
export async function readResults(path: string): Promise<BenchResults | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return parse(text);
}
