/**
 * A NestJS app that every instance serves, with jobs (`@Cron`, `@Interval`) that only the primary
 * runs. Run several: one is elected; kill it (even `kill -9`) and another takes over at once.
 *
 * Env: PORT (default 3000; 0 picks a free one), HOST (default 127.0.0.1), LOCK_NAME, LOCK_DIR (the
 * file lock's directory, default this user's private one), PRIMACY_TTL (ms, default 10000).
 * Prints JSON lines: listening, elected, revoked, tick (each second), sweep (each 150 ms).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { print } from './print.js';

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
// On SIGTERM/SIGINT, app.close(): @PrimaryOnly runs are aborted and awaited, the lock is released.
app.enableShutdownHooks();
try {
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
} catch (error) {
  // A bootstrap hook that failed after primacy's began campaigning: Nest calls no shutdown hook,
  // so close the app (stopping the election, releasing the lock) rather than stay on as primary.
  await app.close();
  throw error;
}
print('listening', { port: app.getHttpServer().address().port });
