/** Answers a worker's requests: lock operations go to the arbiter, control commands to the registry. */
import type { Arbiter } from './arbiter.js';
import type { ManagerMessage, WorkerMessage } from './protocol.js';

type LockRequest = Extract<WorkerMessage, { primacy: 'lock' }>;
type ControlRequest = Extract<WorkerMessage, { primacy: 'control' }>;

export interface Requester {
  /** The incarnation's id (`worker-<index>#<start>`). */
  readonly id: string;
  /** Acked, not draining, manager not stopping: may be granted the lock. */
  readonly eligible: boolean;
  send(message: ManagerMessage): void;
}

export function answerLockRequest(arbiter: Arbiter, from: Requester, m: LockRequest, alive: (id: string) => boolean): void {
  const reply = (fields: Omit<Extract<ManagerMessage, { primacy: 'lock-reply' }>, 'primacy' | 'id'>) =>
    from.send({ primacy: 'lock-reply', id: m.id, ...fields });
  const ttl = m.ttl ?? 0;
  const token = m.token ?? -1;
  if (m.op === 'acquire' && m.holder) reply({ grant: arbiter.acquire(m.name, from.id, m.holder, ttl, from.eligible) });
  else if (m.op === 'renew') reply({ grant: arbiter.renew(m.name, from.id, token, ttl) });
  else if (m.op === 'release') {
    arbiter.release(m.name, from.id, token);
    reply({ grant: null });
  } else if (m.op === 'inspect') reply({ record: arbiter.inspect(m.name, alive) });
}

export function answerControlRequest(
  commands: Record<string, (args: string[]) => Promise<unknown>>,
  from: Requester,
  m: ControlRequest,
): void {
  const reply = (fields: { ok: boolean; result?: unknown; error?: string }) => from.send({ primacy: 'control-reply', id: m.id, ...fields });
  const command = Object.hasOwn(commands, m.command) ? commands[m.command] : undefined;
  if (!command) {
    reply({ ok: false, error: `unknown command ${JSON.stringify(m.command)}` });
    return;
  }
  command(Array.isArray(m.args) ? m.args.map(String) : []).then(
    (result) => reply({ ok: true, result }),
    (error: Error) => reply({ ok: false, error: error.message }),
  );
}
