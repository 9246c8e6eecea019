/** `primacy inspect`: bad usage is exit 64 whether or not a manager runs, and its help lists every command a manager answers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { runCommand } from '../../harness/command.js';
import { askInspector, CONTROL_COMMANDS } from '../../src/manager/inspector.js';

const primacy = join(import.meta.dirname, '../../src/cli/primacy.ts');
const app = join(import.meta.dirname, 'fixtures/http-app.ts');

const cli = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', primacy, ...args]);

const BAD_USAGE = [
  // Not a built-in, nor a name a custom command may have (an unknown valid name goes to the manager).
  ['Frob_nicate'],
  ['scale', 'abc'],
  ['scale'],
  ['scale', '0'],
  ['restart'],
  ['status', 'extra'],
  ['manage', 'mailer'],
  ['manage', 'mailer', './mailer.js', 'two'],
  [],
];

// Many CLI runs through tsx: seconds apiece on a busy machine.
describe('primacy inspect usage', { timeout: 180_000 }, () => {
  let dir: string;
  const children: Child[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'primacy-inspect-usage-'));
    const manager = new Child(primacy, ['start', app, '--workers', '1', '--inspector', '--name', 'usage', '--state-dir', dir], {
      XDG_RUNTIME_DIR: dir,
    });
    children.push(manager);
    const deadline = Date.now() + 60_000;
    while (!/workers? ready/.test(manager.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(manager.stderr).toMatch(/1 worker ready/);
  }, 90_000);
  afterAll(async () => {
    await killAll(children);
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 64 for every usage error, the same with a manager running and without one', async () => {
    const withManager = await Promise.all(BAD_USAGE.map((args) => cli('inspect', ...args, '--name', 'usage', '--state-dir', dir)));
    const without = await Promise.all(BAD_USAGE.map((args) => cli('inspect', ...args, '--state-dir', join(dir, 'no-manager-here'))));
    for (const [i, args] of BAD_USAGE.entries()) {
      for (const result of [withManager[i], without[i]]) {
        expect({ args, code: result?.code }).toEqual({ args, code: 64 });
        expect(result?.stderr).toContain('see primacy inspect --help');
      }
    }
    // Good usage still reaches it: a refusal by the manager is 1, no manager is 3.
    const [refused, unreachable, ok] = await Promise.all([
      cli('inspect', 'restart', 'worker-9', '--name', 'usage', '--state-dir', dir),
      cli('inspect', 'restart', 'worker-9', '--state-dir', join(dir, 'no-manager-here')),
      cli('inspect', 'status', '--name', 'usage', '--state-dir', dir),
    ]);
    expect(refused.code).toBe(1);
    expect(unreachable.code).toBe(3);
    expect(ok.code).toBe(0);
  });

  it('lists every command the manager answers in inspect --help, manage included', async () => {
    // The manager's own registry, as it names it when refusing an unknown command.
    const answer = await askInspector({ socket: join(dir, 'usage.sock') }, { command: 'nope' });
    const known = /\(known: (.*)\)/.exec(answer.ok ? '' : answer.error)?.[1]?.split(', ');
    expect(known).toEqual(Object.keys(CONTROL_COMMANDS));
    expect(known).toContain('manage');

    const help = await cli('inspect', '--help');
    expect(help.code).toBe(0);
    for (const command of known ?? []) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(help.stdout).toContain('manage NAME MODULE [N]');
    expect(help.stdout).toMatch(/64 bad usage/);
  });
});
