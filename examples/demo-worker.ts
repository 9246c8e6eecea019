/**
 * One worker of the demo: it serves (pretend) requests like every worker, and while it is primary
 * it runs a ticking "scheduler" that stamps every job with its fencing token.
 */
import { isPrimaryWorker } from '../src/index.js';

const slot = process.env.DEMO_SLOT ?? '?';
const say = (text: string) => console.log(`[worker ${slot} pid ${process.pid}] ${text}`);
const tell = (ev: string, fields: Record<string, unknown> = {}) =>
  process.send?.({ ev, slot, pid: process.pid, t: performance.timeOrigin + performance.now(), ...fields });

// The one-liner: the answer now, plus a live election that keeps campaigning.
const { isPrimary, election } = await isPrimaryWorker({ name: 'primacy-demo', logger: false });
say(isPrimary ? `PRIMARY (token ${election.token})` : 'secondary: serving requests only');
tell('ready', { isPrimary });
// The first round is over before a listener could be attached: report it, then follow the events.
if (isPrimary) tell('elected', { token: election.token });
election.on('elected', (lease) => tell('elected', { token: lease.token }));
election.on('revoked', ({ reason }) => say(`stepped down (${reason})`));

// The recommended form: singleton work that starts on election and stops on loss or shutdown.
election.whilePrimary((signal, lease) => {
  if (!isPrimary || lease.token !== election.token) say(`PRIMARY now (token ${lease.token}): starting the scheduler`);
  let tick = 0;
  const timer = setInterval(() => say(`scheduler tick ${++tick}, fencing token ${lease.token}`), 400);
  signal.addEventListener('abort', () => {
    clearInterval(timer);
    say('scheduler stopped');
  });
});
