/**
 * examples/metrics (Fastify and Express) run as a user would: three instances of each app on the
 * default file lock, each serving /metrics. Prometheus's view is checked by scraping: the gauge is
 * 1 on the primary and 0 on the followers; after a SIGKILL of the primary the new primary's
 * gauge, transitions, won attempt and failover move, and the remaining follower sees the failover.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLock } from 'primacy';
import { afterAll, expect, it } from 'vitest';
import { Child, type ChildEvent, killAll } from '../../harness/child.js';
import { wallNow } from '../../harness/clock.js';
import { parsePrometheus, type Sample, sampleValue } from '../helpers/prometheus-text.js';
import { until } from '../helpers/until.js';

const children: Child[] = [];
const names: string[] = [];

afterAll(async () => {
  await killAll(children);
  for (const name of names) await rm(fileLock().path(name), { recursive: true, force: true });
});

interface Instance {
  child: Child;
  port: number;
}

async function scrape(instance: Instance): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parsePrometheus(await response.text());
}

async function scenario(example: 'fastify' | 'express'): Promise<void> {
  const name = `metrics-${example}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  names.push(name);
  const script = join(import.meta.dirname, '..', '..', 'examples', 'metrics', `${example}.ts`);
  const env = { PORT: '0', LOCK_NAME: name, PRIMACY_TTL: '4000' };
  const started = Array.from({ length: 3 }, () => new Child(script, [], env));
  children.push(...started);
  const instances: Instance[] = await Promise.all(
    started.map(async (child) => ({ child, port: Number((await child.waitFor((e) => e.ev === 'listening', 20_000)).port) })),
  );
  const electedAfter = (candidates: Instance[], since: number) =>
    Promise.any(
      candidates.map(async (i) => ({
        instance: i,
        event: await i.child.waitFor((e: ChildEvent) => e.ev === 'elected' && e.t >= since, 15_000),
      })),
    );
  const first = await electedAfter(instances, 0);
  const followers = instances.filter((i) => i !== first.instance);
  const labels = { name };

  // The primary renews (every ttl/3) and each follower loses rounds (every retryInterval). Two
  // lost rounds: after the first one (counted as it is answered) the follower reads the holder,
  // so by the second it knows the primary, and a change of holder is a failover to it.
  await until(
    async () => (sampleValue(await scrape(first.instance), 'primacy_renew_duration_seconds_count', { name, result: 'renewed' }) ?? 0) >= 1,
    15_000,
    'a renew',
  );
  await Promise.all(
    followers.map((follower) =>
      until(
        async () => (sampleValue(await scrape(follower), 'primacy_acquire_attempts_total', { name, result: 'lost' }) ?? 0) >= 2,
        15_000,
        'two lost rounds',
      ),
    ),
  );
  const primary = await scrape(first.instance);
  expect(sampleValue(primary, 'leader_election_master_status', labels)).toBe(1);
  expect(sampleValue(primary, 'primacy_fencing_token', labels)).toBe(first.event.token);
  expect(sampleValue(primary, 'primacy_transitions_total', { name, to: 'primary' })).toBe(1);
  for (const follower of followers) {
    const samples = await scrape(follower);
    expect(sampleValue(samples, 'leader_election_master_status', labels)).toBe(0);
    expect(sampleValue(samples, 'primacy_fencing_token', labels)).toBe(0);
    expect(sampleValue(samples, 'primacy_transitions_total', { name, to: 'primary' })).toBe(0);
    expect(sampleValue(samples, 'primacy_failovers_total', labels)).toBe(0);
  }

  // The primary dies without a word; a follower takes over (its pid is gone: at once).
  const killedAt = wallNow();
  first.instance.child.kill('SIGKILL');
  const second = await electedAfter(followers, killedAt);
  const last = followers.find((i) => i !== second.instance) as Instance;
  const now = await scrape(second.instance);
  expect(sampleValue(now, 'leader_election_master_status', labels)).toBe(1);
  expect(sampleValue(now, 'primacy_fencing_token', labels)).toBe(second.event.token);
  expect(second.event.token as number).toBeGreaterThan(first.event.token as number);
  expect(sampleValue(now, 'primacy_transitions_total', { name, to: 'primary' })).toBe(1);
  expect(sampleValue(now, 'primacy_acquire_attempts_total', { name, result: 'won' })).toBe(1);
  expect(sampleValue(now, 'primacy_failovers_total', labels)).toBe(1);
  // The other follower learns of the new holder at its next lost round.
  const seen = await until(
    async () => {
      const samples = await scrape(last);
      return sampleValue(samples, 'primacy_failovers_total', labels) === 1 && samples;
    },
    15_000,
    'the remaining follower sees the failover',
  );
  expect(sampleValue(seen, 'leader_election_master_status', labels)).toBe(0);
}

it('Fastify: /metrics shows the primary, the followers, and a failover after a SIGKILL', () => scenario('fastify'));
it('Express: /metrics shows the primary, the followers, and a failover after a SIGKILL', () => scenario('express'));
