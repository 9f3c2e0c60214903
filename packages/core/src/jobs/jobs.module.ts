import { BullModule, getQueueToken } from '@nestjs/bull';
import { type DynamicModule, Module } from '@nestjs/common';
import type { Queue } from 'bull';

import type { StowageConfig } from '../config';
import type { StowageMetrics } from '../metrics/stowage-metrics';
import { BullJobQueue, QUEUE_NAME } from './bull-job-queue';
import { InProcessJobQueue } from './in-process-job-queue';
import { JobQueue } from './job-queue';

@Module({})
export class JobsModule {
  /** `processing`: whether this process consumes jobs (the embedded queue always does). */
  static forRoot(config: StowageConfig, processing: boolean, metrics?: StowageMetrics): DynamicModule {
    const url = config.redis.url;
    if (!url) {
      return {
        module: JobsModule,
        global: true,
        providers: [{ provide: JobQueue, useFactory: () => new InProcessJobQueue(metrics) }],
        exports: [JobQueue],
      };
    }
    return {
      module: JobsModule,
      global: true,
      imports: [BullModule.forRoot({ url, prefix: config.redis.prefix }), BullModule.registerQueue({ name: QUEUE_NAME })],
      providers: [
        {
          provide: JobQueue,
          inject: [getQueueToken(QUEUE_NAME)],
          useFactory: (queue: Queue) => new BullJobQueue(queue, processing, metrics),
        },
      ],
      exports: [JobQueue],
    };
  }
}
