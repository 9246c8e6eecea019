import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes and real files: give each test room, and run files in separate processes so
    // one test's signal handlers or timers never leak into another.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more parallel files would measure the machine, not the code.
    maxWorkers: 2,
  },
});
