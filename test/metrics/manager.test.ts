/**
 * A real WorkerManager's metrics, scraped over HTTP from its own process (Prometheus's text, and
 * OpenTelemetry's points): workers by state, a worker hung by SIGSTOP (counted as a hang and a
 * restart), a worker SIGKILLed (a restart only).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { isRunning } from '../../harness/pids.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/until.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'metrics-manager.ts');
const children: Child[] = [];
const workerPids = new Set<number>();
let stateDir = '';

afterAll(async () => {
  await killAll(children);
  for (const pid of workerPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

it('counts workers by state, hangs and restarts of a real manager', async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'primacy-metrics-manager-'));
  const manager = new Child(FIXTURE, [], { STATE_DIR: stateDir });
  children.push(manager);
  manager.onEvent((event) => typeof event.workerPid === 'number' && workerPids.add(event.workerPid));
  const port = Number((await manager.waitFor((e) => e.ev === 'listening', 20_000)).port);
  await manager.waitFor((e) => e.ev === 'started', 20_000);
  const scrape = async () => parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

  const first = await scrape();
  expect(sampleValue(first, 'primacy_manager_workers', { state: 'ACKED' })).toBe(2);
  expect(sampleValue(first, 'primacy_manager_workers', { state: 'FAILED' })).toBe(0);
  for (const worker of ['worker-0', 'worker-1']) {
    expect(sampleValue(first, 'primacy_manager_restarts_total', { worker })).toBe(0);
    expect(sampleValue(first, 'primacy_manager_hangs_total', { worker })).toBe(0);
  }

  // worker-0 hangs: no heartbeat for a second, so the manager kills it and restarts it.
  const hung = manager.events.find((e) => e.ev === 'acked' && e.name === 'worker-0')?.workerPid as number;
  const mark = manager.events.length;
  process.kill(hung, 'SIGSTOP');
  await manager.waitFor((e) => e.ev === 'hung' && e.name === 'worker-0', 10_000, mark);
  await manager.waitFor((e) => e.ev === 'acked' && e.name === 'worker-0', 15_000, mark);
  // worker-1 crashes (SIGKILL): a restart, not a hang.
  const crashed = manager.events.find((e) => e.ev === 'acked' && e.name === 'worker-1')?.workerPid as number;
  const mark2 = manager.events.length;
  process.kill(crashed, 'SIGKILL');
  await manager.waitFor((e) => e.ev === 'acked' && e.name === 'worker-1', 15_000, mark2);

  const after = await until(
    async () => {
      const samples = await scrape();
      return sampleValue(samples, 'primacy_manager_workers', { state: 'ACKED' }) === 2 && samples;
    },
    10_000,
    'both workers acked again',
  );
  expect(sampleValue(after, 'primacy_manager_hangs_total', { worker: 'worker-0' })).toBe(1);
  expect(sampleValue(after, 'primacy_manager_restarts_total', { worker: 'worker-0' })).toBe(1);
  expect(sampleValue(after, 'primacy_manager_hangs_total', { worker: 'worker-1' })).toBe(0);
  expect(sampleValue(after, 'primacy_manager_restarts_total', { worker: 'worker-1' })).toBe(1);
  // The same through OpenTelemetry: `primacy.manager.*`, attributes namespaced.
  const otel = (await (await fetch(`http://127.0.0.1:${port}/otel`)).json()) as Record<string, Array<[Record<string, string>, number]>>;
  const value = (name: string, key: string, label: string) => otel[name]?.find(([attributes]) => attributes[key] === label)?.[1];
  expect(value('primacy.manager.workers', 'primacy.worker.state', 'ACKED')).toBe(2);
  expect(value('primacy.manager.workers', 'primacy.worker.state', 'RESTARTING')).toBe(0);
  expect(value('primacy.manager.hangs', 'primacy.worker.name', 'worker-0')).toBe(1);
  expect(value('primacy.manager.hangs', 'primacy.worker.name', 'worker-1')).toBe(0);
  expect(value('primacy.manager.restarts', 'primacy.worker.name', 'worker-0')).toBe(1);
  expect(value('primacy.manager.restarts', 'primacy.worker.name', 'worker-1')).toBe(1);
  manager.kill('SIGTERM');
  expect(await manager.exited).toEqual({ code: 0, signal: null });
});
