/** What an idle counter reports for one window: everything the server counted for one lock, and the holder's share. */

export interface WindowCount {
  /** The window's length, s (the server's clock where it has one). */
  seconds: number;
  /** Everything counted in the window, the holder's own included; the bench's own requests excluded. */
  total: number;
  /** Of which the holder's own, or null where it cannot be told apart. */
  holder: number | null;
  /** The total by command / statement / method, largest first. */
  by: Array<{ what: string; count: number }>;
  /** Anything a reader should know about this window's count. */
  notes: string[];
}

/** Counts one server's (or quorum's) work over a window: `begin()`, wait, `finish()`. */
export interface IdleCounter {
  begin(): Promise<void>;
  finish(): Promise<WindowCount>;
  /** Releases what the counter holds open (its admin connections); the servers are not its to stop. */
  close(): Promise<void>;
}

/** Map → list, largest first, zeros left out. */
export function ranked(counts: ReadonlyMap<string, number>): WindowCount['by'] {
  return [...counts]
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([what, count]) => ({ what, count }));
}

export function addTo(counts: Map<string, number>, what: string, count: number): void {
  counts.set(what, (counts.get(what) ?? 0) + count);
}
