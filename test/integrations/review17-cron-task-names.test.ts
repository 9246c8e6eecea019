/**
 * Review of issue 17: node-cron accepts any task name, and forms the firing key as
 * `<name>:<ISO time>`. A name the coordinator cannot parse back makes every firing fail to decide,
 * so the task never runs anywhere.
 */
import cron from 'node-cron';
import { afterEach, expect, it } from 'vitest';
import { memoryLock } from '../../src/index.js';
import { runCoordinator } from '../../src/integrations/cron.js';
import { until } from '../helpers/until.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const tasks: Array<{ destroy(): unknown }> = [];
afterEach(async () => {
  for (const task of tasks.splice(0)) await task.destroy();
});

it('review17: a task whose name has a line break runs its firings once, not never', async () => {
  const errors: unknown[] = [];
  const coordinator = runCoordinator({ lock: memoryLock(), onError: (error) => errors.push(error) });
  const runs: string[] = [];
  const instances = [0, 1].map(() =>
    cron.schedule('* * * * * *', ({ date }) => void runs.push(date.toISOString()), {
      name: 'nightly\nreport',
      distributed: true,
      runCoordinator: coordinator,
      logger: quiet,
    }),
  );
  tasks.push(...instances);
  await until(() => runs.length >= 2 || errors.length >= 2, 8000, 'two firings decided');
  expect(errors).toEqual([]);
  expect(new Set(runs).size).toBe(runs.length); // and each firing ran once
});
