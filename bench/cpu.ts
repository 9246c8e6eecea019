/**
 * How busy the whole machine was over a stretch of the bench (Linux /proc/stat): the share of CPU
 * time not idle, every core and every process counted (the bench's own children, and anything
 * else running on the machine). On a shared 2-core machine this is what tells a quiet run from a
 * noisy one; the report prints it beside the figures.
 */
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  busy: number;
  total: number;
}

export function cpuSnapshot(): CpuSnapshot {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal ...
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The share (0–1) of CPU time that was busy between two snapshots; NaN where /proc/stat was not readable. */
export function busyShare(from: CpuSnapshot, to: CpuSnapshot): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : Number.NaN;
}
