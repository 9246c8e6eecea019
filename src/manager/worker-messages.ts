/**
 * What a worker's IPC message means to the manager: a heartbeat (liveness, memory, and a custom
 * process's ack), its ready ack, a lock request, a control request for the inspector's commands,
 * a custom inspector command's registration or answer, or a request to (or an answer from)
 * another managed process.
 */
import { noteCommandGroup } from './command-group.js';
import type { Incarnation } from './incarnation.js';
import type { RequestMessage } from './message-router.js';
import { isPrimacyMessage, type WorkerMessage } from './protocol.js';

export interface WorkerMessageSteps {
  acked(incarnation: Incarnation): void;
  /** A heartbeat brought a new memory figure (`incarnation.rss`). */
  memory(incarnation: Incarnation): void;
  lock(incarnation: Incarnation, message: WorkerMessage & { primacy: 'lock' }): void;
  control(incarnation: Incarnation, message: WorkerMessage & { primacy: 'control' }): void;
  /** A custom inspector command registered, or a registered command's answer. */
  command(incarnation: Incarnation, message: WorkerMessage & { primacy: 'command' | 'command-reply' }): void;
  request(incarnation: Incarnation, message: RequestMessage): void;
}

export function onWorkerMessage(incarnation: Incarnation, message: unknown, steps: WorkerMessageSteps): void {
  if (!isPrimacyMessage(message)) return;
  const m = message as WorkerMessage;
  if (m.primacy === 'heartbeat') {
    // A custom process has no port to listen on: its first heartbeat (sent at load) is the ack.
    if (incarnation.slot.custom && incarnation.state !== 'ACKED') steps.acked(incarnation);
    if (incarnation.state === 'ACKED') incarnation.heard();
    if (m.group !== undefined) noteCommandGroup(incarnation, m.group);
    if (typeof m.rss === 'number') {
      incarnation.rss = m.rss;
      steps.memory(incarnation);
    }
  } else if (m.primacy === 'ready') steps.acked(incarnation);
  else if (m.primacy === 'lock') steps.lock(incarnation, m);
  else if (m.primacy === 'control') steps.control(incarnation, m);
  else if (m.primacy === 'command' || m.primacy === 'command-reply') steps.command(incarnation, m);
  else if (m.primacy === 'request' || m.primacy === 'request-answer') steps.request(incarnation, m);
}
