/**
 * The worker module, checked before anything is forked: a missing script otherwise starts every
 * worker, prints their stack traces and fails on the first ack.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PrimacyConfigError } from '../errors.js';

/** What is wrong with `script` as node's main module (resolved against the cwd), or null if node can load it. */
export function scriptProblem(script: string): { path: string; problem: string } | null {
  const path = resolve(script);
  let file = path;
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) {
    try {
      // Node's own lookup of a main module: `server` for server.js, a directory's index.js or package.json main.
      file = createRequire(`${process.cwd()}/`).resolve(path);
    } catch {
      const problem = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? 'is a directory, with no index.js' : 'no such file';
      return { path, problem };
    }
  }
  try {
    accessSync(file, constants.R_OK);
    return null;
  } catch {
    return { path, problem: 'not readable' };
  }
}

/** Throws a PrimacyConfigError naming `script` and its resolved path when node could not load it. */
export function checkScript(script: string): void {
  const found = scriptProblem(script);
  if (!found) return;
  const named = found.path === script ? script : `${script} (${found.path})`;
  const message = `\`script\` ${named}: ${found.problem}`;
  throw new PrimacyConfigError('script', script, 'a readable file', 'manager', message);
}
