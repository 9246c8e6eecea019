import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests and examples import `primacy`, `primacy/redis`... as a user does; tsconfig's `paths` map those
// to the sources (tsx and tsc read them); the same map, exact-match, for Vite's resolver.
const { compilerOptions } = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8'));
const alias = Object.entries(compilerOptions.paths as Record<string, string[]>).map(([specifier, [target]]) => ({
  find: new RegExp(`^${specifier.replace('/', '\\/')}$`),
  replacement: resolve(import.meta.dirname, target as string),
}));

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes and real files: give each test room, and run files in separate processes so
    // one test's signal handlers or timers never leak into another.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores, but most of a file's time is spent waiting on the processes, servers and timers it
    // drives, not computing: three files at a time keep both cores busy (the suite passes with one
    // of them taken by another process) and bring it near ten minutes, which two did not.
    maxWorkers: 3,
  },
});
