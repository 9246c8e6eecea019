/**
 * The background-job example as a config file, for `npx primacy start` in this directory (or
 * `primacy start --config examples/background-jobs/primacy.config.mjs`): the same two apps main.ts
 * starts through the API. Environment as main.ts: PORT, WORKERS, JOBS_DIR, STEP_MS, MAX_ATTEMPTS.
 */
export default {
  name: 'background-jobs',
  apps: [
    { name: 'worker', server: true, script: './server.ts', instances: Number(process.env.WORKERS ?? 2) },
    { name: 'jobs', script: './jobs.ts' },
  ],
};
