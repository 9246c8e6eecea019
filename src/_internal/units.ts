/**
 * Durations and sizes as people write them in a config file or on a command line: `1500`, `1500ms`,
 * `15s`, `2m`; `536870912`, `512M`, `1.5G` (binary units, as PM2's `max_memory_restart`). Each
 * returns null for text it cannot read; the caller names the option in its error.
 */
const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

function scaled(text: string, units: Record<string, number>): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? units[(match[2] as string).toLowerCase()] : undefined;
  return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : null;
}

/** Milliseconds from `1500`, `1500ms`, `15s`, `2m`, `1h`; null if unreadable. */
export function parseDuration(text: string): number | null {
  return scaled(text, DURATION_UNITS);
}

/** Bytes from `1048576`, `512K`, `512M`, `1.5G` (1024-based); null if unreadable. */
export function parseBytes(text: string): number | null {
  return scaled(text, SIZE_UNITS);
}
