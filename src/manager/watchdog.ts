/**
 * Hang detection by heartbeats, judged from the workers' side: a worker is hung when it has sent
 * nothing for `timeout` ms of the manager's *running* time (see RunningTime). A manager that was
 * itself stopped does not hold its own gap against its workers, and it reads the heartbeats they
 * sent meanwhile (queued in the IPC pipes) before it judges: a 7 s SIGSTOP of the manager used to
 * get every healthy worker SIGKILLed as hung within 2 ms of SIGCONT.
 */
import { RunningTime } from '../_internal/running-time.js';
import type { Incarnation } from './incarnation.js';

export class HeartbeatWatchdog {
  #timer: NodeJS.Timeout | undefined;
  #running: RunningTime | undefined;

  constructor(
    private readonly settings: { tick: number; timeout: number },
    private readonly watched: () => Incarnation[],
    private readonly onHung: (incarnation: Incarnation, silentFor: number) => void,
  ) {}

  start(): void {
    this.#running = new RunningTime(this.settings.tick);
    this.#timer = setInterval(() => setImmediate(() => this.#look()), this.settings.tick);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #look(): void {
    const credited = this.#running?.credit() ?? 0;
    for (const incarnation of this.watched()) {
      // The watchdog starts at the ack, and reports a hang once.
      if (incarnation.state !== 'ACKED' || incarnation.lastHeartbeat === null) continue;
      incarnation.silence += credited;
      if (incarnation.silence <= this.settings.timeout) continue;
      const silentFor = incarnation.silence;
      incarnation.lastHeartbeat = null;
      this.onHung(incarnation, silentFor);
    }
  }
}
