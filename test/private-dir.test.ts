import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateDir, privateRoot } from '../src/_internal/private-dir.js';
import { PrimacyConfigError } from '../src/errors.js';

let base: string;
const saved = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, TMPDIR: process.env.TMPDIR };

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'primacy-private-dir-'));
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function refusal(path: string): PrimacyConfigError {
  try {
    ensurePrivateDir(path);
  } catch (error) {
    expect(error).toBeInstanceOf(PrimacyConfigError);
    return error as PrimacyConfigError;
  }
  throw new Error(`ensurePrivateDir(${path}) accepted it`);
}

describe('privateRoot', () => {
  it('is $XDG_RUNTIME_DIR/primacy when XDG_RUNTIME_DIR is set and absolute', () => {
    process.env.XDG_RUNTIME_DIR = '/run/user/1234';
    expect(privateRoot()).toBe('/run/user/1234/primacy');
  });

  it('is <tmpdir>/primacy-<uid> when XDG_RUNTIME_DIR is unset, empty or relative', () => {
    process.env.TMPDIR = base;
    const expected = join(base, `primacy-${process.geteuid?.()}`);
    delete process.env.XDG_RUNTIME_DIR;
    expect(privateRoot()).toBe(expected);
    process.env.XDG_RUNTIME_DIR = '';
    expect(privateRoot()).toBe(expected);
    process.env.XDG_RUNTIME_DIR = 'relative/run';
    expect(privateRoot()).toBe(expected);
  });
});

describe('ensurePrivateDir', () => {
  it('creates a missing directory mode 0700 (parents too), and accepts it again', () => {
    const path = join(base, 'created', 'deeper', 'private');
    const umask = process.umask(0o000); // even a permissive umask must not widen it
    try {
      ensurePrivateDir(path);
    } finally {
      process.umask(umask);
    }
    const stats = lstatSync(path);
    expect(stats.isDirectory()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o700);
    // Regression: the parents it creates were 0777 under this umask, so anyone could move the private directory away.
    expect([join(base, 'created'), join(base, 'created', 'deeper')].map((dir) => lstatSync(dir).mode & 0o7777)).toEqual([0o755, 0o755]);
    expect(() => ensurePrivateDir(path)).not.toThrow();
  });

  it('creates the private root 0700 under XDG_RUNTIME_DIR', () => {
    process.env.XDG_RUNTIME_DIR = join(base, 'run-user');
    mkdirSync(process.env.XDG_RUNTIME_DIR, { mode: 0o700 });
    ensurePrivateDir(privateRoot());
    expect(lstatSync(join(base, 'run-user', 'primacy')).mode & 0o777).toBe(0o700);
  });

  it("refuses an XDG_RUNTIME_DIR that is another user's (root after `su` without `-`), naming the variable, the path, its owner and the fix", () => {
    // Regression: accepted; that user could move root's private directory away at will.
    const runtime = join(base, 'run-nobody');
    mkdirSync(runtime, { mode: 0o700 });
    chownSync(runtime, 65534, 65534);
    process.env.XDG_RUNTIME_DIR = runtime;
    const error = refusal(privateRoot());
    expect(error.message).toContain(
      `XDG_RUNTIME_DIR (${runtime}) is owned by uid 65534 (nobody), mode 0700, not by this process (uid 0 (root))`,
    );
    expect(error.message).toMatch(/Unset XDG_RUNTIME_DIR, or switch users with `su -`/);
    expect(readdirSync(runtime)).toEqual([]); // nothing created in it
  });

  it('refuses an XDG_RUNTIME_DIR of ours that other users can write', () => {
    const runtime = join(base, 'run-open');
    mkdirSync(runtime);
    chmodSync(runtime, 0o777);
    process.env.XDG_RUNTIME_DIR = runtime;
    expect(refusal(privateRoot()).message).toContain(
      `XDG_RUNTIME_DIR (${runtime}) is writable by other users (owned by uid 0 (root), mode 0777)`,
    );
  });

  it('refuses a symbolic link, even to a directory of ours, naming the path and its target', () => {
    const target = join(base, 'link-target');
    mkdirSync(target, { mode: 0o700 });
    const link = join(base, 'link');
    symlinkSync(target, link);
    const error = refusal(link);
    expect(error.message).toContain(link);
    expect(error.message).toContain(`symbolic link (to ${target})`);
    expect(error.message).toMatch(/remove it/);
  });

  it('refuses a directory owned by another uid, naming the owner, the mode and the fix', () => {
    const path = join(base, 'foreign');
    mkdirSync(path, { mode: 0o700 });
    chownSync(path, 65534, 65534);
    const error = refusal(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('owned by uid 65534 (nobody)');
    expect(error.message).toContain('mode 0700');
    expect(error.message).toMatch(/remove it .*or set `dir`/);
  });

  it('refuses a world-writable directory of ours', () => {
    const path = join(base, 'open');
    mkdirSync(path);
    chmodSync(path, 0o777);
    expect(refusal(path).message).toContain('is writable by other users (owned by uid 0 (root), mode 0777)');
  });

  it('accepts a group-readable directory, but not as the private root', () => {
    const path = join(base, 'readable');
    mkdirSync(path);
    chmodSync(path, 0o755);
    expect(() => ensurePrivateDir(path)).not.toThrow();
    process.env.XDG_RUNTIME_DIR = join(base, 'run-readable');
    mkdirSync(privateRoot(), { recursive: true });
    chmodSync(privateRoot(), 0o750);
    expect(refusal(privateRoot()).message).toContain('is open to other users (owned by uid 0 (root), mode 0750; expected 0700)');
  });

  it('refuses a file where the directory should be', () => {
    const path = join(base, 'a-file');
    writeFileSync(path, '');
    expect(refusal(path).message).toContain('is not a directory');
  });
});
