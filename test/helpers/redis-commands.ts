/** Commands per second the Redis servers behind `admins` executed over `ms` (INFO commandstats, summed over the nodes). */
import type { Redis } from 'ioredis';
import { pause } from './until.js';

async function executed(admins: readonly Redis[]): Promise<number> {
  let sum = 0;
  for (const admin of admins) {
    const stats = await admin.info('commandstats');
    sum += [...stats.matchAll(/calls=(\d+)/g)].reduce((total, match) => total + Number(match[1]), 0);
  }
  return sum;
}

export async function commandsPerSecond(admins: readonly Redis[], ms: number): Promise<number> {
  const before = await executed(admins);
  const started = performance.now();
  await pause(ms);
  const after = await executed(admins);
  return (after - before - admins.length) / ((performance.now() - started) / 1000); // less the first INFOs
}
