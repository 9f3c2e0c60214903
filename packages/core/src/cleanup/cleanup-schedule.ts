import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';

import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import { CleanupRunner } from './cleanup-runner';

export const CLEANUP_POLICIES_JOB = 'packages.cleanup';
/** Due policies are looked for at least this often, whatever the interval between a project's runs. */
const MAX_TICK_SECONDS = 60;

/**
 * Runs due cleanup policies as a repeating job: once per tick across every process sharing the
 * queue (Bull on Redis: in `stowage worker`, or `serve` with `jobs.run_in_server`; the embedded
 * default's in-process queue: in `serve`), as the blob collector is run.
 */
@Injectable()
export class CleanupSchedule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly runner: CleanupRunner,
    private readonly jobs: JobQueue,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.define(CLEANUP_POLICIES_JOB, () => this.runner.runDue());
  }

  async onApplicationBootstrap(): Promise<void> {
    const seconds = Math.min(this.config.packages.cleanup_interval, MAX_TICK_SECONDS);
    await this.jobs.repeat(CLEANUP_POLICIES_JOB, Math.round(seconds * 1000));
  }
}
