import { describe, expect, it } from 'vitest';
import { composeMarkdown } from '../../bench/render.js';
import { assemble } from '../../bench/results.js';
import { mainRun, managerRun } from './fixture.js';

const results = assemble(mainRun(), managerRun());

describe('bench RESULTS.md sections', () => {
  it('reports the PostgreSQL/etcd part, the idle cost per lock and the SIGTERM hand-over step by step', () => {
    const markdown = composeMarkdown(results, '');
    const sections = [
      '## Redis and Redlock',
      '## PostgreSQL, MySQL/MariaDB and etcd',
      '## Idle cost per lock',
      '## SIGTERM hand-over, step by step',
      '## Run notes',
    ];
    const at = sections.map((heading) => markdown.indexOf(heading));
    for (const [i, index] of at.entries()) expect(index, sections[i]).toBeGreaterThan(0);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(markdown).toContain('| pg advisory-lock loop ÷ primacy postgres | 2.5× | 40× |');
    expect(markdown).toContain('| etcd3 Election ÷ primacy etcd | 0.93× | 0.50× |');
    expect(markdown).toContain('Both etcd contenders use a 5 s TTL');
    expect(markdown).toContain('- Other servers: PostgreSQL 15.20, MariaDB 10.11.19, etcd 3.4.23');
    // 200 followers within the goal; Redlock's 24/s is 8 per node.
    expect(markdown).toMatch(
      /\| primacy redis \| 200 \| 4 \| \*\*14\.0\*\* commands \| 1\.0 \| 13\.0 \| CLIENT LIST 13\.0 \| 25 % \| met \|/,
    );
    expect(markdown).toContain('| primacy redlock (3 nodes) | 200 | 4 | **24.0** commands (8.0 per node) | 3.0 | 21.0 |');
    expect(markdown).toContain('met per node, not in total |');
    // primacy redis SIGTERM: p50 5 ms, stepped down at 1 ms, read by the bench 2 ms after the new primary's stamp.
    expect(markdown).toContain('| primacy redis | **5.00** | 1.00 | 4.00 | 7.00 | 2.00 | 20.0 | 50 % |');
    const link = (id: string) => markdown.indexOf(`](charts/${id}.svg)`);
    expect(link('sql-etcd-sigkill')).toBeGreaterThan(markdown.indexOf('| pg advisory-lock loop |'));
    expect(link('idle-per-lock')).toBeGreaterThan(markdown.indexOf('| primacy redlock (3 nodes) | 200 |'));
    expect(link('idle-per-lock')).toBeLessThan(markdown.indexOf('### How the idle cost was measured'));
  });
});
