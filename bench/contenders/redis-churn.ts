/**
 * One of the processes of the contention test: acquire → release on one key as fast as it can,
 * through `bench/redis-cycles.ts`. Prints `{"ready":true}` once connected and warmed up, then waits
 * for a start time (shared clock, ms) on stdin, cycles until start + duration and prints its counts.
 * argv: <kind> <key> <duration ms> <url>[,<url>...].
 */
import { createInterface } from 'node:readline';
import { wallNow } from '../../harness/clock.js';
import { CYCLE_KINDS, type CycleKind, createCycler } from '../redis-cycles.js';

const [kind, key, durationArg, urls] = process.argv.slice(2);
const duration = Number(durationArg);
if (!CYCLE_KINDS.includes(kind as CycleKind) || !key || !duration || !urls) {
  throw new Error(`usage: redis-churn.ts <${CYCLE_KINDS.join('|')}> <key> <duration ms> <url,...>`);
}

const cycler = createCycler(kind as CycleKind, urls.split(','), key);
// Warm-up on a key of our own: connections open, scripts loaded, JIT going.
const warmUp = createCycler(kind as CycleKind, urls.split(','), `${key}:warm-up:${process.pid}`);
for (let i = 0; i < 50; i++) await warmUp.cycle();
await warmUp.close();
await cycler.cycle(); // opens this cycler's own connections before the clock starts
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

const startAt = await new Promise<number>((resolve) => {
  createInterface({ input: process.stdin }).once('line', (line) => resolve(Number(line)));
});
while (wallNow() < startAt) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5, startAt - wallNow()))));
const started = wallNow();
let acquired = 0;
let attempts = 0;
let errors = 0;
let lastError = '';
while (wallNow() - started < duration) {
  attempts++;
  try {
    if (await cycler.cycle()) acquired++;
  } catch (error) {
    errors++;
    lastError = (error as Error).message;
  }
}
const ms = wallNow() - started;
process.stdout.write(`${JSON.stringify({ acquired, attempts, errors, lastError, ms, lateMs: started - startAt })}\n`);
await cycler.close();
process.exit(0);
