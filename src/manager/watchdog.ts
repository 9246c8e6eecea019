/**
 * Hang detection by heartbeats, judged from the workers' side: a worker is hung when it has sent
 * nothing for `timeout` ms of the manager's *running* time. Each look credits at most two ticks,
 * however long it really took, so a manager that was itself stopped (SIGSTOP, a VM suspend, a
 * debugger) does not hold its own gap against its workers; and it looks after pending I/O, so the
 * heartbeats they sent meanwhile (queued in the IPC pipes) are read first. A 7 s SIGSTOP of the
 * manager used to get every healthy worker SIGKILLed as hung within 2 ms of SIGCONT.
 */
import type { Incarnation } from './incarnation.js';

export class HeartbeatWatchdog {
  #timer: NodeJS.Timeout | undefined;
  #lastLook = 0;

  constructor(
    private readonly settings: { tick: number; timeout: number },
    private readonly watched: () => Incarnation[],
    private readonly onHung: (incarnation: Incarnation, silentFor: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.#lastLook = this.now();
    this.#timer = setInterval(() => setImmediate(() => this.#look()), this.settings.tick);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #look(): void {
    const now = this.now();
    const { tick, timeout } = this.settings;
    for (const incarnation of this.watched()) {
      // The watchdog starts at the ack, and reports a hang once.
      if (incarnation.state !== 'ACKED' || incarnation.lastHeartbeat === null) continue;
      const since = Math.max(this.#lastLook, incarnation.lastHeartbeat);
      incarnation.silence += Math.min(Math.max(0, now - since), 2 * tick);
      if (incarnation.silence <= timeout) continue;
      const silentFor = incarnation.silence;
      incarnation.lastHeartbeat = null;
      this.onHung(incarnation, silentFor);
    }
    this.#lastLook = now;
  }
}
