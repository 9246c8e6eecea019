/**
 * The env adapter: a static decision from the environment, strict about its values. Every test
 * passes its own `env` object; process.env is never touched. The last tests run real processes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LockAdapter } from '../../src/adapter.js';
import { createHolderIdentity } from '../../src/identity.js';
import { envLock, PrimacyConfigError } from '../../src/index.js';

const holder = createHolderIdentity();

function configError(build: () => unknown): PrimacyConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(PrimacyConfigError);
    return error as PrimacyConfigError;
  }
  throw new Error('envLock() did not throw');
}

async function roleOf(lock: LockAdapter): Promise<'primary' | 'secondary'> {
  const lease = await lock.acquire('jobs', holder, 5000);
  return lease === null ? 'secondary' : 'primary';
}

describe('envLock with PRIMARY_WORKER', () => {
  it("'true': acquire gives a lease with token 1, renew keeps it, release ends it, acquire again works", async () => {
    const lock = envLock({ env: { PRIMARY_WORKER: 'true' } });
    expect(lock.kind).toBe('env');
    const lease = await lock.acquire('jobs', holder, 5000);
    expect(lease).not.toBeNull();
    expect(lease).toMatchObject({ name: 'jobs', token: 1, holder, ttl: 5000 });
    const renewed = await lock.renew(lease!, 6000);
    expect(renewed).toMatchObject({ name: 'jobs', token: 1, holder, ttl: 6000 });
    expect(renewed!.renewedAt).toBeGreaterThanOrEqual(lease!.renewedAt);
    await lock.release(lease!);
    expect(await lock.renew(lease!, 5000)).toBeNull();
    const again = await lock.acquire('jobs', holder, 5000);
    expect(again).toMatchObject({ token: 1 });
    expect(await lock.renew(again!, 5000)).not.toBeNull();
  });

  it("'false': never acquires nor renews", async () => {
    const lock = envLock({ env: { PRIMARY_WORKER: 'false' } });
    expect(await lock.acquire('jobs', holder, 5000)).toBeNull();
    const forged = { name: 'jobs', token: 1, holder, acquiredAt: Date.now(), renewedAt: Date.now(), ttl: 5000 };
    expect(await lock.renew(forged, 5000)).toBeNull();
  });

  it.each([
    ['unset', undefined, 'undefined'],
    ['empty', '', '"" (string)'],
    ['upper case', 'TRUE', '"TRUE" (string)'],
    ['1', '1', '"1" (string)'],
    ['yes', 'yes', '"yes" (string)'],
    ['padded', ' true', '" true" (string)'],
  ])('throws at construction when %s', (_label, value, got) => {
    const env = value === undefined ? {} : { PRIMARY_WORKER: value };
    const error = configError(() => envLock({ env }));
    expect(error.option).toBe('PRIMARY_WORKER');
    expect(error.value).toBe(value);
    expect(error.message).toContain('PRIMARY_WORKER');
    expect(error.message).toContain(`got ${got}`);
    expect(error.message).toMatch(/Expected `PRIMARY_WORKER` to be exactly 'true' or 'false'/);
  });

  it('reads a custom variable instead', async () => {
    expect(await roleOf(envLock({ variable: 'IS_LEADER', env: { IS_LEADER: 'true', PRIMARY_WORKER: 'false' } }))).toBe('primary');
    expect(await roleOf(envLock({ variable: 'IS_LEADER', env: { IS_LEADER: 'false', PRIMARY_WORKER: 'true' } }))).toBe('secondary');
    const error = configError(() => envLock({ variable: 'IS_LEADER', env: { PRIMARY_WORKER: 'true' } }));
    expect(error.option).toBe('IS_LEADER');
    expect(error.message).toContain('IS_LEADER');
    expect(error.message).toContain('got undefined');
  });

  it('inspect() reports the variable and this process role', async () => {
    const primary = await envLock({ env: { PRIMARY_WORKER: 'true' } }).inspect('jobs');
    expect(primary?.name).toBe('jobs');
    expect(primary?.location).toContain('PRIMARY_WORKER=true');
    expect(primary?.location).toMatch(/this process: primary/);
    const secondary = await envLock({ env: { PRIMARY_WORKER: 'false' } }).inspect('jobs');
    expect(secondary?.location).toContain('PRIMARY_WORKER=false');
    expect(secondary?.location).toMatch(/this process: secondary/);
  });
});

describe('envLock with an instance variable (PM2 NODE_APP_INSTANCE)', () => {
  const pm2 = (value: string | undefined, extra: { primaryValue?: unknown } = {}) =>
    envLock({
      instanceVariable: 'NODE_APP_INSTANCE',
      env: value === undefined ? {} : { NODE_APP_INSTANCE: value },
      ...(extra as { primaryValue?: string }),
    });

  it("makes instance '0' primary and the others not", async () => {
    expect(await roleOf(pm2('0'))).toBe('primary');
    expect(await roleOf(pm2('1'))).toBe('secondary');
    expect(await roleOf(pm2('10'))).toBe('secondary');
  });

  it('throws at construction when the variable is unset, naming it', () => {
    const error = configError(() => pm2(undefined));
    expect(error.option).toBe('NODE_APP_INSTANCE');
    expect(error.value).toBeUndefined();
    expect(error.message).toContain('NODE_APP_INSTANCE');
    expect(error.message).toContain('got undefined');
  });

  it('ignores PRIMARY_WORKER when an instance variable is given', async () => {
    const lock = envLock({ instanceVariable: 'NODE_APP_INSTANCE', env: { NODE_APP_INSTANCE: '1', PRIMARY_WORKER: 'true' } });
    expect(await roleOf(lock)).toBe('secondary');
  });

  it('refuses a numeric primaryValue (the PM2 `=== 0` pitfall)', () => {
    const error = configError(() => pm2('0', { primaryValue: 0 }));
    expect(error.option).toBe('primaryValue');
    expect(error.value).toBe(0);
    expect(error.message).toContain('`primaryValue`');
    expect(error.message).toMatch(/a string/);
    expect(error.message).toContain('got 0 (number)');
  });

  it('refuses options of the other mode instead of ignoring them', () => {
    const lonely = configError(() => envLock({ primaryValue: '2', env: { PRIMARY_WORKER: 'true' } }));
    expect(lonely.option).toBe('primaryValue');
    expect(lonely.message).toMatch(/only with `instanceVariable`/);
    const both = configError(() => envLock({ variable: 'X', instanceVariable: 'NODE_APP_INSTANCE', env: { NODE_APP_INSTANCE: '0' } }));
    expect(both.option).toBe('variable');
  });

  it("honours primaryValue '2'", async () => {
    expect(await roleOf(pm2('2', { primaryValue: '2' }))).toBe('primary');
    expect(await roleOf(pm2('0', { primaryValue: '2' }))).toBe('secondary');
  });

  it('inspect() reports the variable, its value and this process role', async () => {
    const primary = await pm2('0').inspect('jobs');
    expect(primary?.location).toContain('NODE_APP_INSTANCE=0');
    expect(primary?.location).toMatch(/this process: primary/);
    const secondary = await pm2('3').inspect('jobs');
    expect(secondary?.location).toContain('NODE_APP_INSTANCE=3');
    expect(secondary?.location).toMatch(/this process: secondary/);
  });
});

describe('envLock across real processes', () => {
  const fixture = fileURLToPath(new URL('./fixtures/env-candidate.ts', import.meta.url));
  const root = fileURLToPath(new URL('../..', import.meta.url));

  function run(
    mode: 'instance' | 'boolean',
    vars: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.PRIMARY_WORKER;
    delete env.NODE_APP_INSTANCE;
    Object.assign(env, vars);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('elects exactly instance 0 of four PM2-style instances', async () => {
    const results = await Promise.all(['0', '1', '2', '3'].map((i) => run('instance', { NODE_APP_INSTANCE: i })));
    const answers = results.map(({ code, stdout, stderr }) => {
      expect(code, stderr).toBe(0);
      return JSON.parse(stdout.trim()) as { instance: string; isPrimary: boolean; token: number | null };
    });
    expect(answers.map((a) => a.instance)).toEqual(['0', '1', '2', '3']);
    expect(answers.map((a) => a.isPrimary)).toEqual([true, false, false, false]);
    expect(answers.map((a) => a.token)).toEqual([1, null, null, null]);
  });

  it('fails loudly when PRIMARY_WORKER is unset', async () => {
    const { code, stdout, stderr } = await run('boolean', {});
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stdout).toBe('');
    expect(stderr).toContain('PrimacyConfigError');
    expect(stderr).toContain('PRIMARY_WORKER');
  });
});
