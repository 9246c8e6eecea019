/** One JSON line per event on stdout, with the pid and the wall time (ms): what the example's test reads. */
export function print(ev: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ ev, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields }));
}
