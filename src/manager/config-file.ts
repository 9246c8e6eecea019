/**
 * `primacy.config.{js,mjs,cjs,json}`: where `primacy start` finds the apps to run when it is given
 * no script, and how the file is read. A JS config may export functions (`healthCheck`) and a lock
 * adapter; a JSON one only data. Errors name the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PrimacyUsageError } from '../errors.js';

export const CONFIG_FILES = ['primacy.config.js', 'primacy.config.mjs', 'primacy.config.cjs', 'primacy.config.json'] as const;

/** The config file in `dir`, or null; two of them is ambiguous and refused. */
export function findConfigFile(dir: string): string | null {
  const found = CONFIG_FILES.filter((file) => existsSync(join(dir, file)));
  if (found.length > 1) throw new PrimacyUsageError(`${dir} holds ${found.join(' and ')}: keep one, or pick one with --config`);
  const [file] = found;
  return file === undefined ? null : join(dir, file);
}

/** The config object a file exports (`export default`, `module.exports`, or the JSON document). */
export async function readConfigFile(path: string): Promise<unknown> {
  const file = resolve(path);
  if (!existsSync(file)) throw new PrimacyUsageError(`--config ${path}: no such file`);
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new PrimacyUsageError(`${path}: not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!/\.[cm]?js$/.test(file)) throw new PrimacyUsageError(`--config ${path}: expected a .js, .mjs, .cjs or .json file`);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new PrimacyUsageError(`${path}: could not be loaded: ${(error as Error).message}`);
  }
  const config = module.default ?? module;
  // `export default async () => ({ ... })` is a common shape for computed configs.
  return typeof config === 'function' ? await (config as () => unknown)() : config;
}
