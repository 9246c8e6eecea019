import { describe, expect, it } from 'vitest';
import { resolveManagerOptions } from '../../src/manager/options.js';
import { RestartPolicy } from '../../src/manager/restart-policy.js';

const settings = { policy: 'always' as const, backoffInitial: 100, backoffMax: 1000, stableAfter: 30_000, burst: 5, window: 10_000 };

describe('restart policy', () => {
  it('restarts a first crash at once, then backs off exponentially up to the cap, and resets after a stable run', () => {
    const policy = new RestartPolicy({ ...settings, burst: 100 });
    const delays = [0, 1, 2, 3, 4, 5, 6].map((i) => policy.decide({ clean: false, uptime: 10, now: i * 20_000 }));
    expect(delays.map((d) => (d.action === 'restart' ? d.delay : d.action))).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
    expect(policy.decide({ clean: false, uptime: 30_000, now: 200_000 })).toEqual({ action: 'restart', delay: 0 });
  });

  it('fails a crash loop: more than burst exits within the window, at any uptime', () => {
    const policy = new RestartPolicy(settings);
    const decisions = [0, 1, 2, 3, 4, 5].map((i) => policy.decide({ clean: false, uptime: 60_000, now: i * 1000 }));
    expect(decisions.slice(0, 5).every((d) => d.action === 'restart')).toBe(true);
    expect(decisions[5]).toEqual({ action: 'fail', reason: 'crash loop: 6 exits within 10000 ms' });
  });

  it('forgets exits older than the window', () => {
    const policy = new RestartPolicy(settings);
    for (let i = 0; i < 10; i++) expect(policy.decide({ clean: false, uptime: 1, now: i * 5000 }).action).toBe('restart');
  });

  it('completes clean exits unless the policy is always; never restarts nothing', () => {
    expect(new RestartPolicy({ ...settings, policy: 'on-failure' }).decide({ clean: true, uptime: 1, now: 0 })).toEqual({
      action: 'complete',
    });
    expect(new RestartPolicy(settings).decide({ clean: true, uptime: 1, now: 0 }).action).toBe('restart');
    expect(new RestartPolicy({ ...settings, policy: 'never' }).decide({ clean: false, uptime: 1, now: 0 }).action).toBe('fail');
  });
});

describe('manager options', () => {
  it('refuses bad input naming the option and the value', () => {
    expect(() => resolveManagerOptions({ script: '' })).toThrow(/Expected `script` to be the path of the worker module, got "" \(string\)/);
    expect(() => resolveManagerOptions({ script: 'a.js', workers: 1.5 })).toThrow(/`workers`/);
    expect(() => resolveManagerOptions({ script: 'a.js', workers: 0 })).toThrow(/Expected `workers` to be a finite number >= 1, got 0/);
    expect(() => resolveManagerOptions({ script: 'a.js', heartbeatInterval: 1000, heartbeatTimeout: 1500 })).toThrow(
      /Expected `heartbeatTimeout` to be more than twice heartbeatInterval \(1000 ms\), got 1500/,
    );
    expect(() => resolveManagerOptions({ script: 'a.js', restart: 'sometimes' as never })).toThrow(/`restart`/);
    expect(() => resolveManagerOptions({ script: 'a.js', ackOn: 'online' as never })).toThrow(/`ackOn`/);
  });

  it('fills documented defaults', () => {
    const resolved = resolveManagerOptions({ script: 'a.js', workers: 2 });
    expect(resolved).toMatchObject({
      ackTimeout: 30_000,
      heartbeatInterval: 1000,
      heartbeatTimeout: 5000,
      killTimeout: 15_000,
      restart: 'always',
      ackOn: 'listening',
    });
  });
});
