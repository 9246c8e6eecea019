import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeXml, renderChart } from '../../bench/charts.js';
import type { Measure } from '../../bench/measures.js';
import { composeMarkdown, publish, renderFromDisk } from '../../bench/render.js';
import { assemble, parse, serialize } from '../../bench/results.js';
import { mainRun, managerRun } from './fixture.js';

const results = assemble(mainRun(), managerRun());
const measure = (id: string): Measure => {
  const found = results.measures.find((m) => m.id === id);
  if (!found) throw new Error(`no measure ${id} in ${results.measures.map((m) => m.id).join(', ')}`);
  return found;
};
const chart = (id: string) => renderChart(measure(id));

/** No XML parser is installed: tokenize the tags and check they nest, and that text holds only escaped markup. */
function assertWellFormed(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (const match of svg.matchAll(tag)) {
    const between = svg.slice(at, match.index);
    // Text between tags: no stray '<' or '>', and every '&' starts an entity.
    expect(between, `text before ${match[0]}`).not.toMatch(/[<>]|&(?!amp;|lt;|gt;|quot;)/);
    at = (match.index ?? 0) + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing) expect(stack.pop(), `closing ${name}`).toBe(name);
    else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name as string);
    }
  }
  expect(svg.slice(at).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

interface Placed {
  text: string;
  x: number;
  y: number;
}
const translate = (attrs: string) => {
  const m = /transform="translate\((-?[\d.]+),(-?[\d.]+)\)/.exec(attrs);
  return { x: Number(m?.[1]), y: Number(m?.[2]) };
};
/** Every <text> a reader sees (not the invisible copies that reserve room), with its position in its group. */
function texts(svg: string): Placed[] {
  return [...svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)]
    .filter((m) => !/ opacity="0"/.test(m[1] as string))
    .map((m) => ({ text: m[2] as string, ...translate(m[1] as string) }));
}
/** The texts of one of the library's roles: axis tick labels, axis titles, legend labels. */
function roleTexts(svg: string, role: 'axis-label' | 'axis-title' | 'legend-label'): Placed[] {
  const groups = svg.split(`<g class="mark-text role-${role}"`).slice(1);
  return groups.flatMap((group) => texts(group.slice(0, group.indexOf('</g>'))));
}
const textAt = (svg: string, text: string): Placed => {
  const found = texts(svg).filter((t) => t.text === escapeXml(text));
  expect(found, text).toHaveLength(1);
  return found[0] as Placed;
};

/** Each dot's x position with the value its description names. */
function dots(svg: string): Array<{ cx: number; value: number }> {
  return [...svg.matchAll(/<path aria-label="round \d+: ([\d.]+) ms"[^>]*transform="translate\(([\d.]+),[\d.]+\)"/g)].map((m) => ({
    cx: Number(m[2]),
    value: Number(m[1]),
  }));
}

const tickXs = (svg: string) => new Map(roleTexts(svg, 'axis-label').map((t) => [t.text, t.x]));

describe('bench charts', () => {
  it('renders every measure of the dataset as well-formed SVG with a title, its axis, every contender and a mark per row', async () => {
    expect(results.measures.map((m) => m.id)).toEqual([
      'file-sigkill',
      'file-sigterm',
      'redis-sigkill',
      'redis-sigterm',
      'sql-etcd-sigkill',
      'sql-etcd-sigterm',
      'file-throughput',
      'redis-throughput',
      'redis-contention',
      'redis-idle',
      'idle-per-lock',
      'manager-failover',
      'manager-http',
      'manager-reload',
    ]);
    for (const m of results.measures) {
      const svg = await renderChart(m);
      assertWellFormed(svg);
      expect(svg).toMatch(/^<svg [^>]*width="820"/);
      expect(svg).toContain(`<title id="chart-title">${escapeXml(m.title)}</title>`);
      expect(svg).toContain(`<desc id="chart-desc">${escapeXml(m.caption)}. `);
      expect(svg).not.toMatch(/<script|@import|url\(|href=/);
      const shown = texts(svg).map((t) => t.text);
      expect(shown, m.id).toContain(escapeXml(m.title));
      expect(shown, m.id).toContain(escapeXml(m.caption));
      for (const row of m.rows) expect(shown, `${m.id}: ${row.label}`).toContain(escapeXml(row.label));
      expect(roleTexts(svg, 'axis-title').map((t) => t.text)).toEqual([
        m.kind === 'distribution' ? `${m.unit}, log scale` : escapeXml(m.unit),
      ]);
      // Blue and orange are told apart by a legend wherever a peer stands beside primacy.
      const legend = roleTexts(svg, 'legend-label').map((t) => t.text);
      expect(legend, m.id).toEqual(m.rows.some((r) => !r.primacy) ? ['primacy', 'peer'] : []);
      if (m.kind === 'distribution') {
        expect(dots(svg), m.id).toHaveLength(m.rows.reduce((n, r) => n + r.samples.length, 0));
        expect(svg.match(/aria-label="p50 [\d.]+ ms"/g), m.id).toHaveLength(m.rows.length);
        expect(svg.match(/aria-label="p95 [\d.]+ ms"/g), m.id).toHaveLength(m.rows.length);
      } else {
        expect(svg.match(/aria-roledescription="bar"/g), m.id).toHaveLength(m.rows.length);
      }
    }
  });

  it('draws failover on a log axis with decade ticks, equally spaced', async () => {
    const ticks = tickXs(await chart('file-sigkill'));
    // Samples up to 11000 ms: the axis ends at 20000, not a whole empty decade later.
    expect([...ticks.keys()]).toEqual(['1', '10', '100', '1000', '10000']);
    const xs = [...ticks.values()];
    const steps = xs.slice(1).map((x, i) => x - (xs[i] as number));
    for (const step of steps) expect(step).toBeCloseTo(steps[0] as number, 0);
    expect(steps[0]).toBeGreaterThan(50);
  });

  it('places a dot further right for a larger value, on one scale across rows, with the p50 tick on it', async () => {
    const svg = await chart('file-sigkill');
    const placed = dots(svg);
    expect(placed.map((d) => d.value).sort((a, b) => a - b)).toEqual([8, 10, 12, 9000, 10000, 11000]);
    const byValue = [...placed].sort((a, b) => a.value - b.value);
    for (let i = 1; i < byValue.length; i++) expect(byValue[i]?.cx).toBeGreaterThan(byValue[i - 1]?.cx as number);
    // Log scale: 10 → 10000 is three decades, 8 → 12 a fraction of one.
    const at = (v: number) => placed.find((d) => d.value === v)?.cx as number;
    const ticks = tickXs(svg);
    expect(at(10000) - at(10)).toBeCloseTo(3 * ((ticks.get('10') as number) - (ticks.get('1') as number)), 0);
    // The thick p50 tick (2.5 px wide, drawn from its left edge) stands on the median dot.
    const p50 = /<path aria-label="p50 10(?:\.0)? ms"[^>]*d="M([\d.]+),/.exec(svg);
    expect(Number(p50?.[1]) + 1.25).toBeCloseTo(at(10), 0);
  });

  it('writes the ratio to primacy computed from the data at the end of each peer row', async () => {
    const kill = await chart('file-sigkill');
    textAt(kill, '1000× slower p50');
    expect(texts(kill).filter((t) => /× (slower|faster) p50$/.test(t.text))).toHaveLength(1);
    // proper-lockfile's SIGTERM p50 5 ms against primacy's 10 ms: a faster peer is said to be faster.
    textAt(await chart('file-sigterm'), '2.0× faster p50');
    // Two primacy rows: each peer names the one it stands beside (3 nodes against 3 nodes), on the line below.
    const redis = await chart('redis-sigkill');
    for (const [ratio, against] of [
      ['190× slower p50', 'than primacy redis'],
      ['188× slower p50', 'than primacy redlock (3 nodes)'],
    ] as const) {
      const a = textAt(redis, ratio);
      const b = textAt(redis, against);
      expect(b.x, against).toBe(a.x);
      expect(b.y - a.y, against).toBeGreaterThan(10);
      expect(b.y - a.y, against).toBeLessThan(21);
    }
    // PostgreSQL and etcd: each peer against primacy on its own backend, whatever order the rows came in.
    const sql = await chart('sql-etcd-sigkill');
    for (const [ratio, against] of [
      ['2.5× slower p50', 'than primacy postgres'],
      ['1.1× faster p50', 'than primacy etcd'],
    ] as const) {
      expect(textAt(sql, against).x, against).toBe(textAt(sql, ratio).x);
    }
    expect(measure('sql-etcd-sigkill').rows.map((r) => r.label)).toEqual([
      'primacy postgres',
      'pg advisory-lock loop',
      'primacy etcd',
      'etcd3 Election',
    ]);
  });

  it('draws rates as bars proportional to the value, with value labels and ratios', async () => {
    const svg = await chart('redis-throughput');
    const widths = new Map(
      [...svg.matchAll(/<path aria-label="([^"]+?): [^"]*" [^>]*aria-roledescription="bar" d="M[\d.]+,[\d.]+h([\d.]+)/g)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    );
    expect(widths.get('ioredis SET NX PX + Lua')).toBeCloseTo(2 * (widths.get('primacy redis') as number), 0);
    // The value label sits past the end of its bar.
    expect(textAt(svg, '4000 ops/s · 2.0× primacy redis').x).toBeGreaterThan(widths.get('ioredis SET NX PX + Lua') as number);
    textAt(svg, '3000 ops/s · 3.0× primacy redlock (3 nodes)');
    textAt(await chart('manager-reload'), '12 failed');
    // The idle cost per lock: one bar per adapter and level, all primacy's (no ratio, no legend).
    const idle = await chart('idle-per-lock');
    textAt(idle, 'primacy redlock (3 nodes), 200 followers');
    textAt(idle, '14 per s');
    textAt(idle, '24 per s');
  });

  it('puts each chart under its table in RESULTS.md and says which run the manager section comes from', () => {
    const markdown = composeMarkdown(results, '');
    const link = (id: string) => markdown.indexOf(`](charts/${id}.svg)`);
    for (const m of results.measures) expect(link(m.id), m.id).toBeGreaterThan(0);
    expect(link('file-sigkill')).toBeGreaterThan(markdown.indexOf('| proper-lockfile defaults |'));
    expect(link('file-sigkill')).toBeLessThan(markdown.indexOf('Ratios (how many times'));
    expect(link('manager-http')).toBeGreaterThan(markdown.indexOf('### HTTP throughput'));
    expect(link('manager-http')).toBeLessThan(markdown.indexOf('### Failed requests during'));
    expect(markdown).toContain('section comes from a separate, later run (BENCH_ONLY=manager npm run bench, 2026-01-02T00:00:00.000Z');
    expect(composeMarkdown(assemble(mainRun(), managerRun(mainRun().env.date)), '')).not.toContain('section comes from a separate');
  });

  it('keeps a section as text while results.json lacks its part (a RESULTS.md older than results.json)', () => {
    const previous = composeMarkdown(results, '');
    const later = '2026-03-01T00:00:00.000Z';
    const managerOnly = composeMarkdown(assemble(null, managerRun(later)), previous);
    expect(managerOnly).toContain('| proper-lockfile defaults |');
    expect(managerOnly.split('## Worker manager')).toHaveLength(2);
    expect(managerOnly).toContain(`From the run of ${later}`);
    expect(managerOnly.match(/section comes from .*/g)).toEqual([
      `section comes from a separate, later run (BENCH_ONLY=manager npm run bench, ${later}; pm2 6.0.14); every other section from the run above.`,
    ]);
    const mainOnly = composeMarkdown(assemble(mainRun(), null), previous);
    expect(mainOnly).toContain('From the run of 2026-01-02T00:00:00.000Z');
    expect(mainOnly).toMatch(/section comes from an earlier run that results.json does not hold/);
  });
});

describe('bench results.json', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('round-trips the data, NaN included', () => {
    const back = parse(serialize(results));
    expect(back.manager?.result.reloads?.[1]?.reloadMs).toBeNaN();
    expect(back).toEqual(results);
  });

  it('writes data, charts and RESULTS.md, and re-renders the same report from the data alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'primacy-bench-render-'));
    dirs.push(dir);
    await writeFile(join(dir, 'RESULTS.md'), 'stale');
    await publish(assemble(mainRun(), managerRun()), { dir });
    await writeFile(join(dir, 'charts', 'gone.svg'), '<svg/>');
    const written = await readFile(join(dir, 'RESULTS.md'), 'utf8');
    const charts = await readdir(join(dir, 'charts'));
    expect(charts).toHaveLength(results.measures.length + 1);
    const svgs = async () => Promise.all(results.measures.map((m) => readFile(join(dir, 'charts', `${m.id}.svg`), 'utf8')));
    const drawn = await svgs();
    await renderFromDisk(dir);
    expect(await readFile(join(dir, 'RESULTS.md'), 'utf8')).toBe(written);
    expect((await readdir(join(dir, 'charts'))).sort()).toEqual(results.measures.map((m) => `${m.id}.svg`).sort());
    // The same data draws the same pictures, byte for byte, so a re-render leaves bench/charts/ unchanged.
    expect(await svgs()).toEqual(drawn);
    expect(parse(await readFile(join(dir, 'results.json'), 'utf8'))).toEqual(results);
  });
});
