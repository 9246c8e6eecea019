/**
 * The harness's pure parts, which the bench's and the chaos run's figures rest on: the percentile
 * they report, and the overlap check that judges mutual exclusion.
 */
import { describe, expect, it } from 'vitest';
import { findOverlaps, type Term } from '../harness/overlaps.js';
import { percentile } from '../harness/percentile.js';

const term = (pid: number, start: number, end: number): Term => ({ pid, start, end, endedBy: 'released' });

describe('percentile', () => {
  it('is NaN without samples', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('is the one sample, whatever the quantile', () => {
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('interpolates between closest ranks, on unsorted samples', () => {
    expect(percentile([40, 10, 30, 20], 0.5)).toBe(25);
    expect(percentile([40, 10, 30, 20], 0)).toBe(10);
    expect(percentile([40, 10, 30, 20], 1)).toBe(40);
    // 20 samples 1..20: p95 lies between the 19th and 20th value, not at the maximum.
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBeCloseTo(19.05, 10);
  });

  it('leaves its input unsorted', () => {
    const samples = [3, 1, 2];
    percentile(samples, 0.5);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('findOverlaps', () => {
  it('finds none among no terms, or one', () => {
    expect(findOverlaps([])).toEqual([]);
    expect(findOverlaps([term(1, 0, 100)])).toEqual([]);
  });

  it('counts a hand-over, one term ending as the next starts, as no overlap', () => {
    expect(findOverlaps([term(1, 0, 100), term(2, 100, 200)])).toEqual([]);
  });

  it('reports two processes holding at once, from the newer start to the first end', () => {
    const older = term(1, 0, 100);
    const newer = term(2, 60, 200);
    expect(findOverlaps([newer, older])).toEqual([{ start: 60, end: 100, older, newer }]);
  });

  it('reports a term inside another up to its own end', () => {
    const older = term(1, 0, 300);
    const newer = term(2, 100, 150);
    expect(findOverlaps([older, newer])).toEqual([{ start: 100, end: 150, older, newer }]);
  });

  it('never counts two terms of one process', () => {
    expect(findOverlaps([term(1, 0, 100), term(1, 50, 150)])).toEqual([]);
  });

  it('reports every pair, ordered by the older term', () => {
    const [a, b, c] = [term(1, 0, 100), term(2, 50, 150), term(3, 90, 120)];
    expect(findOverlaps([c, b, a]).map((o) => [o.older.pid, o.newer.pid, o.start, o.end])).toEqual([
      [1, 2, 50, 100],
      [1, 3, 90, 100],
      [2, 3, 90, 120],
    ]);
  });
});
