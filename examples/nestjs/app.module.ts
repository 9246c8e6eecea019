import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { fileLock } from 'primacy';
import { PrimacyModule } from 'primacy/nestjs';
import { ReportJob } from './report.job.js';
import { StatusController } from './status.controller.js';

const lockDir = process.env.LOCK_DIR;

@Module({
  imports: [
    ScheduleModule.forRoot(),
    // The default lock is a file in this user's private directory: instances on one host. For
    // several hosts, pass `lock: redisLock({ url })` from 'primacy/redis' (or forRootAsync with ConfigService).
    PrimacyModule.forRoot({
      name: process.env.LOCK_NAME ?? 'nestjs-example',
      ttl: Number(process.env.PRIMACY_TTL ?? 10_000),
      ...(lockDir && { lock: fileLock({ dir: lockDir }) }),
    }),
  ],
  controllers: [StatusController],
  providers: [ReportJob],
})
export class AppModule {}
