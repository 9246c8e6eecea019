import { Controller, Get } from '@nestjs/common';
import type { Election } from 'primacy';
import { InjectElection } from 'primacy/nestjs';

/** GET /primacy: this instance's role and the lock's current holder, read through the injected Election. */
@Controller('primacy')
export class StatusController {
  constructor(@InjectElection() private readonly election: Election) {}

  @Get()
  async status() {
    const record = await this.election.leader();
    return {
      pid: process.pid,
      isPrimary: this.election.isPrimary,
      token: this.election.token ?? null,
      holder: record?.state === 'held' ? { pid: record.holder?.pid, token: record.token } : null,
    };
  }
}
