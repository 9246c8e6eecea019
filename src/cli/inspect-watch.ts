/**
 * `primacy inspect status --watch [--interval MS]`: asks the manager for its workers every
 * interval until Ctrl-C or SIGTERM. On a terminal the table is redrawn in place (uptimes move);
 * elsewhere, and with `--json`, something is printed only when a worker changed, so a log of the
 * output reads as a history.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { askInspector, type InspectorResponse } from '../manager/inspector.js';
import type { WorkerInfo } from '../manager/manager.js';

export interface WatchStatusOptions {
  readonly socket: string;
  readonly json: boolean;
  readonly interval: number;
  /** The table `primacy inspect status` prints. */
  readonly render: (workers: WorkerInfo[]) => string;
  readonly stdout?: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr?: { write(text: string): unknown };
}

/**
 * One poll may take this long before the manager counts as gone: status is answered at once, even
 * during a reload, so a manager silent this long is stopped, hung or dead.
 */
const LOOK_TIMEOUT = 5000;

/** Watches until a signal (exit 0), a refusal (1) or a manager that stops answering (3). */
export async function watchStatus(options: WatchStatusOptions): Promise<number> {
  const { socket, json, interval, render, stdout = process.stdout, stderr = process.stderr } = options;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const redraw = !json && stdout.isTTY === true;
  let last: string | undefined;
  let seen = false;
  try {
    while (!stop.signal.aborted) {
      let response: InspectorResponse;
      try {
        response = await askInspector({ socket }, { command: 'status' }, LOOK_TIMEOUT);
      } catch (error) {
        if (stop.signal.aborted) break;
        const what = seen ? 'the manager went away' : 'cannot reach the manager';
        stderr.write(`primacy inspect: ${what} at ${socket}: ${(error as Error).message}\n`);
        return 3;
      }
      seen = true;
      if (!response.ok) {
        stderr.write(`primacy inspect: ${response.error}\n`);
        return 1;
      }
      const workers = response.result as WorkerInfo[];
      const key = changeKey(workers);
      if (redraw) {
        stdout.write(`\x1b[H\x1b[2J every ${interval} ms, Ctrl-C to stop\n\n${render(workers)}`);
      } else if (key !== last) {
        stdout.write(json ? `${JSON.stringify(response)}\n` : `--- ${new Date().toISOString()}\n${render(workers)}`);
      }
      last = key;
      await sleep(interval, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** What counts as a change: who runs, in which state, as which pid, with what counts and role; not uptime, heartbeat or memory. */
function changeKey(workers: WorkerInfo[]): string {
  return JSON.stringify(workers.map((w) => [w.name, w.state, w.pid, w.starts, w.restarts, w.reloads, w.primary]));
}
