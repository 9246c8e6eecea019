import { readFileSync } from 'node:fs';

// Written in by the build (tsup `define`) from package.json; absent when running from source.
declare const PRIMACY_BUILD_VERSION: string | undefined;

/**
 * primacy's version, recorded in every lease so `lock-status` shows what each holder runs.
 * package.json is its only source: the build copies it in, and from source it is read there.
 */
export const VERSION: string = typeof PRIMACY_BUILD_VERSION === 'string' ? PRIMACY_BUILD_VERSION : versionFromSource();

function versionFromSource(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
