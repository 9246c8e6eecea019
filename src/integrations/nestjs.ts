/**
 * The NestJS integration (`primacy/nestjs`): `PrimacyModule.forRoot()` / `forRootAsync()` provide an
 * Election that campaigns on application bootstrap and releases on shutdown, and `@PrimaryOnly()`
 * makes a method (a `@nestjs/schedule` `@Cron` / `@Interval` job) run only on the primary.
 */
export { InjectElection, PrimacyModule } from './nestjs-module.js';
export {
  DEFAULT_ELECTION_KEY,
  getElectionToken,
  PRIMACY_ELECTION,
  type PrimacyModuleAsyncOptions,
  type PrimacyModuleOptions,
  type PrimacyModuleSettings,
} from './nestjs-options.js';
export { PrimaryOnly, type PrimaryOnlyOptions, type PrimaryRun, primaryRun } from './nestjs-primary-only.js';
