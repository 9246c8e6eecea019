/** Answers a worker's requests: lock operations go to the arbiter, control commands to the registry. */
import type { Arbiter } from './arbiter.js';
import type { ManagerMessage, WorkerMessage } from './protocol.js';

type LockRequest = Extract<WorkerMessage, { primacy: 'lock' }>;
type LockReply = Omit<Extract<ManagerMessage, { primacy: 'lock-reply' }>, 'primacy' | 'id'>;
type ControlRequest = Extract<WorkerMessage, { primacy: 'control' }>;

export interface Requester {
  /** The incarnation's id (`worker-<index>#<start>`). */
  readonly id: string;
  send(message: ManagerMessage): void;
}

/** Every request gets exactly one reply; a backend failure is sent back as `error`, never thrown here. */
export function answerLockRequest(arbiter: Arbiter, from: Requester, m: LockRequest): void {
  const ttl = m.ttl ?? 0;
  const token = m.token ?? -1;
  const grant = { token, grantId: m.grantId ?? '' };
  const answer = async (): Promise<LockReply> => {
    if (m.op === 'acquire' && m.holder) return { grant: await arbiter.acquire(m.name, from.id, m.holder, ttl, m.id) };
    if (m.op === 'renew') return { grant: await arbiter.renew(m.name, from.id, grant, ttl) };
    if (m.op === 'release') {
      await arbiter.release(m.name, from.id, grant);
      return { grant: null };
    }
    if (m.op === 'inspect') return { record: await arbiter.inspect(m.name) };
    return { error: `unknown lock operation ${JSON.stringify(m.op)}` };
  };
  answer().then(
    (fields) => from.send({ primacy: 'lock-reply', id: m.id, ...fields }),
    (error: unknown) => from.send({ primacy: 'lock-reply', id: m.id, error: error instanceof Error ? error.message : String(error) }),
  );
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
