/**
 * The worker's side of the manager's lock, over a real IPC channel with the test playing the
 * manager: each answer reaches the request it answers and no other.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, 'fixtures/two-locks.ts');

describe('manager lock (worker side)', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = null;
  });

  it('routes each answer to its own lock when two locks in one process have requests in flight', async () => {
    const messages: Array<Record<string, unknown>> = [];
    const worker = fork(script, [], { env: { ...process.env, PRIMACY_MANAGED: '1' }, execArgv: ['--import', 'tsx'] });
    child = worker;
    worker.on('message', (m) => messages.push(m as Record<string, unknown>));
    const waitFor = async (match: (m: Record<string, unknown>) => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!messages.some(match) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const found = messages.find(match);
      if (!found) throw new Error(`no such message; saw ${JSON.stringify(messages)}`);
      return found;
    };
    const requestFor = (name: string) => waitFor((m) => m.primacy === 'lock' && m.op === 'acquire' && m.name === name);
    const [forA, forB] = await Promise.all([requestFor('a'), requestFor('b')]);
    // Both locks numbered their first request alike once; the answer for b then settled a too.
    const grant = { grantId: String(forB.id), token: 7, acquiredAt: Date.now(), renewedAt: Date.now() };
    worker.send({ primacy: 'lock-reply', id: forB.id, grant });
    expect(await waitFor((m) => m.ev === 'answer' && m.lock === 'b')).toMatchObject({ token: 7 });
    await new Promise((r) => setTimeout(r, 300));
    expect(messages.filter((m) => m.ev === 'answer' && m.lock === 'a')).toEqual([]);
    worker.send({ primacy: 'lock-reply', id: forA.id, grant: null });
    expect(await waitFor((m) => m.ev === 'answer' && m.lock === 'a')).toMatchObject({ token: null });
  });
});
