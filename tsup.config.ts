import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // One entry per subpath; shared code is split into chunks (CJS too), so `primacy` and
    // `primacy/redis` share one PrimacyError class and `instanceof` works across them.
    entry: { index: 'src/index.ts', redis: 'adapters/redis.ts', redlock: 'adapters/redlock.ts' },
    format: ['esm', 'cjs'],
    splitting: true,
    external: ['ioredis'],
    dts: true,
    target: 'node20',
    sourcemap: true,
  },
  {
    // The CLIs are ESM-only executables; their shebang is kept from the source.
    entry: { 'cli/lock-status': 'src/cli/lock-status.ts', 'cli/primacy': 'src/cli/primacy.ts' },
    format: ['esm'],
    target: 'node20',
    external: ['ioredis'],
  },
]);
