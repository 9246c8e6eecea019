import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

// package.json's version, written into the build (src/version.ts) so it has one source.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const define = { PRIMACY_BUILD_VERSION: JSON.stringify(version) };
// Optional peer dependencies: never bundled, the user's own copy is used.
const PEERS = [
  'ioredis',
  'pg',
  'mysql2',
  'etcd3',
  'fastify',
  'fastify-plugin',
  'express',
  'croner',
  'node-cron',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/schedule',
  'reflect-metadata',
  'rxjs',
  'prom-client',
  '@opentelemetry/api',
];

export default defineConfig([
  {
    // One entry per subpath; shared code is split into chunks (CJS too), so `primacy` and
    // `primacy/redis` share one PrimacyError class and `instanceof` works across them.
    entry: {
      index: 'src/index.ts',
      redis: 'adapters/redis.ts',
      redlock: 'adapters/redlock.ts',
      postgres: 'adapters/postgres.ts',
      mysql: 'adapters/mysql.ts',
      etcd: 'adapters/etcd.ts',
      manager: 'src/manager/index.ts',
      fastify: 'src/integrations/fastify.ts',
      express: 'src/integrations/express.ts',
      cron: 'src/integrations/cron.ts',
      nestjs: 'src/integrations/nestjs.ts',
      metrics: 'src/metrics/index.ts',
    },
    format: ['esm', 'cjs'],
    splitting: true,
    external: PEERS,
    // import.meta.url in the CJS build (the manager locates its worker bootstrap with it).
    shims: true,
    dts: true,
    target: 'node20',
    sourcemap: true,
    define,
  },
  {
    // The CLIs are ESM-only executables; their shebang is kept from the source.
    // The CLIs, and the bootstrap the manager preloads into its workers (--import, so ESM).
    entry: {
      'cli/lock-status': 'src/cli/lock-status.ts',
      'cli/primacy': 'src/cli/primacy.ts',
      'manager-bootstrap': 'src/manager/bootstrap.ts',
      'manager-command-runner': 'src/manager/command-runner.ts',
    },
    format: ['esm'],
    target: 'node20',
    define,
    external: PEERS,
  },
]);
