/** Nest apps for the in-process tests: each built by a function, so every test gets its own classes. */
import { Controller, type DynamicModule, type INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Election } from 'primacy';
import { InjectElection, PrimaryOnly, primaryRun } from 'primacy/nestjs';

export interface JobEvents {
  elected: number[];
  runs: Array<{ token: number; signal: AbortSignal }>;
}

/** A service that subscribes to its election in its constructor and has guarded methods. */
export function jobsFor(events: JobEvents) {
  @Injectable()
  class Jobs {
    constructor(@InjectElection() readonly election: Election) {
      election.on('elected', (lease) => events.elected.push(lease.token));
    }

    @PrimaryOnly()
    record(label: string): string {
      const { token, signal } = primaryRun();
      events.runs.push({ token, signal });
      return `${label}:${token}`;
    }

    /** Runs until its signal aborts, then takes `settleMs` more, as work that cleans up would. */
    @PrimaryOnly()
    async long(settleMs: number, steps: string[]): Promise<void> {
      const { signal } = primaryRun();
      steps.push('started');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      steps.push('settled');
    }
  }
  return Jobs;
}

/** A controller, to show the election injects there too and guarded methods on controllers are bound. */
export function controllerFor() {
  @Controller()
  class Status {
    constructor(@InjectElection() readonly election: Election) {}

    @PrimaryOnly()
    ping(): string {
      return 'pong';
    }
  }
  return Status;
}

/** Creates (not yet initialised) an app of `primacy` plus `providers` and `controllers`. */
export async function createApp(
  primacy: DynamicModule | DynamicModule[],
  providers: Array<new (...args: never[]) => unknown> = [],
  controllers: Array<new (...args: never[]) => unknown> = [],
): Promise<INestApplication> {
  @Module({ imports: [primacy].flat(), providers, controllers })
  class AppModule {}
  return NestFactory.create(AppModule, { logger: false, abortOnError: false });
}
