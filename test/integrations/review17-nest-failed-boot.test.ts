/**
 * Review of issue 17: primacy/nestjs campaigns in its `onApplicationBootstrap`, which Nest runs
 * before the app's own modules' (PrimacyModule is global). When a later bootstrap hook fails, the
 * app never starts and Nest calls no shutdown hook: a process that logged the error would stay on as
 * the primary of an app that is not running (the module cannot see the failure). The README's
 * pattern, `app.close()` when `listen()` fails, must stop it being primary: tested here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { Child, killAll } from '../../harness/child.js';
import { eventually } from '../helpers/until.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'review17-nest-failed-boot.ts');
const dir = mkdtempSync(join(tmpdir(), 'primacy-review17-nest-'));
const children: Child[] = [];
afterEach(() => killAll(children));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('review17: an app whose bootstrap failed after the campaign, closed as the README says, does not stay primary', async () => {
  const app = new Child(FIXTURE, [dir]);
  children.push(app);
  expect(await app.waitFor((e) => e.ev === 'boot-failed', 15_000)).toMatchObject({ message: 'Error: database unreachable' });
  // Three of its 1 s TTLs later: gone, or at least no longer the primary.
  const holding = () => app.events.filter((e) => e.ev === 'holding').at(-1);
  const state = await eventually(
    () => (app.running ? `primary: ${holding()?.primary}` : 'exited'),
    (seen) => seen === 'exited' || seen === 'primary: false',
    3000,
  );
  expect(state === 'exited' || state === 'primary: false', state).toBe(true);
});
