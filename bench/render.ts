/**
 * Renders the recorded dataset (bench/results.json) into bench/RESULTS.md and bench/charts/*.svg.
 * `npm run bench` calls it right after measuring. On its own it regenerates the report from the
 * recorded data without measuring again (after a change to the wording or the charts, or to check
 * that the report matches its data):
 *
 *   node --import tsx bench/render.ts        (or: BENCH_RENDER_ONLY=1 npm run bench)
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './charts.js';
import type { Environment } from './environment.js';
import { existingSection, managerSection, spliceSection } from './manager/report.js';
import { type Figure, renderMarkdown } from './report.js';
import { type BenchResults, readResults, serialize } from './results.js';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

const NOTE = /^- The "Worker manager" section comes from .*\n/m;

/** The manager section names its own machine: it may come from another run than the header's. */
export const machineOf = (env: Environment) => ({ node: env.node, machine: `${env.cpu}, ${env.cores} cores` });

/**
 * RESULTS.md for `results`. `previous` (the current RESULTS.md) matters only while results.json
 * lacks a part: before the first run that records it, that part's section is kept as text, as the
 * bench always did for a run of the manager part alone.
 */
export function composeMarkdown(results: BenchResults, previous: string): string {
  const figure: Figure = (id) => {
    const measure = results.measures.find((m) => m.id === id);
    return measure ? `\n\n![${measure.title}](charts/${id}.svg)` : '';
  };
  const { main, manager } = results;
  const section = manager
    ? managerSection(manager.result, { date: manager.env.date, command: manager.command, ...machineOf(manager.env) }, figure)
    : existingSection(previous);
  let markdown: string;
  if (main) markdown = spliceSection(renderMarkdown(main, figure), section);
  else if (previous) markdown = spliceSection(previous, section);
  else markdown = `# primacy benchmark results\n\n${section}`;
  // Say which sections come from which run whenever the two parts were measured apart.
  markdown = markdown.replace(NOTE, '');
  let source = '';
  if (manager && (!main || manager.env.date !== main.env.date)) {
    const when = !main || manager.env.date > main.env.date ? 'later' : 'earlier';
    source = `a separate, ${when} run (${manager.command}, ${manager.env.date}; pm2 ${manager.result.pm2})`;
  } else if (!manager && main && section) {
    source = 'an earlier run that results.json does not hold (its first line names it)';
  }
  if (source) {
    const note = `- The "Worker manager" section comes from ${source}; every other section from the run above.\n`;
    markdown = markdown.replace(/^(- Total runtime: .*\n)/m, `$1${note}`);
  }
  return markdown;
}

export interface Published {
  markdown: string;
  /** Paths of the charts written. */
  charts: string[];
}

/**
 * Writes RESULTS.md and one SVG per measure under `dir` (bench/ by default), and results.json
 * unless `writeData` is false (a re-render leaves the recorded data alone). Charts of measures no
 * longer present are removed, so charts/ always matches the data.
 */
export async function publish(results: BenchResults, options: { dir?: string; writeData?: boolean } = {}): Promise<Published> {
  const dir = options.dir ?? BENCH_DIR;
  const chartsDir = join(dir, 'charts');
  const previous = await readFile(join(dir, 'RESULTS.md'), 'utf8').catch(() => '');
  if (options.writeData !== false) await writeFile(join(dir, 'results.json'), serialize(results));
  await mkdir(chartsDir, { recursive: true });
  for (const name of await readdir(chartsDir)) if (name.endsWith('.svg')) await rm(join(chartsDir, name));
  const charts: string[] = [];
  for (const measure of results.measures) {
    const path = join(chartsDir, `${measure.id}.svg`);
    await writeFile(path, await renderChart(measure));
    charts.push(path);
  }
  const markdown = composeMarkdown(results, previous);
  await writeFile(join(dir, 'RESULTS.md'), markdown);
  return { markdown, charts };
}

/** Re-renders bench/RESULTS.md and bench/charts/ from bench/results.json. */
export async function renderFromDisk(dir = BENCH_DIR): Promise<Published> {
  const results = await readResults(join(dir, 'results.json'));
  if (!results) throw new Error(`no ${join(dir, 'results.json')} yet: \`npm run bench\` records one`);
  const published = await publish(results, { dir, writeData: false });
  process.stdout.write(`rendered ${join(dir, 'RESULTS.md')} and ${published.charts.length} charts from ${join(dir, 'results.json')}\n`);
  return published;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  renderFromDisk().catch((error: unknown) => {
    process.stderr.write(`[bench render] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
