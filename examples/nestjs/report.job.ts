import { Injectable } from '@nestjs/common';
import { Cron, Interval } from '@nestjs/schedule';
import type { Election } from 'primacy';
import { InjectElection, PrimaryOnly, primaryRun } from 'primacy/nestjs';
import { print } from './print.js';

/**
 * Singleton jobs: every instance schedules them (`@nestjs/schedule`), only the primary runs them.
 * `@InjectElection()` is explicit because esbuild/tsx emit no decorator metadata for Nest to read.
 */
@Injectable()
export class ReportJob {
  constructor(@InjectElection() election: Election) {
    // The election exists from the start (it campaigns once the app has booted): subscribe here.
    election.on('elected', (lease) => print('elected', { token: lease.token }));
    election.on('revoked', ({ reason, lease }) => print('revoked', { reason, token: lease.token }));
  }

  /** Once a second, on the primary only; the fencing token goes with every write. */
  @Cron('* * * * * *')
  @PrimaryOnly()
  report(): void {
    const { token } = primaryRun();
    print('tick', { token, second: Math.floor(Date.now() / 1000) });
  }

  /** Stacked the other way round: either order works. Awaited on shutdown before the lock is released. */
  @PrimaryOnly()
  @Interval(150)
  async sweep(): Promise<void> {
    const { token, signal } = primaryRun();
    print('sweep', { token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (signal.aborted) print('sweep-aborted', { token });
  }
}
