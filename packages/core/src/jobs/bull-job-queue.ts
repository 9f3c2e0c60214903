import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';

import type { StowageMetrics } from '../metrics/stowage-metrics';
import { DEFAULT_JOB_OPTIONS, type JobCounts, type JobHandler, type JobOptions, JobQueue } from './job-queue';
import { observedJob } from './observed-job';

export const QUEUE_NAME = 'stowage';

/** Jobs in Redis through Bull: any process may add, every worker process consumes. */
export class BullJobQueue extends JobQueue implements OnApplicationBootstrap {
  private readonly logger = new Logger('jobs');
  private readonly definitions = new Map<string, { handler: JobHandler; concurrency: number }>();
  private readonly added = new Set<Job>();

  constructor(
    private readonly queue: Queue,
    private readonly processing: boolean,
    private readonly metrics?: StowageMetrics,
  ) {
    super();
    // Every job.finished() (drain) listens on the queue's global events: a batch of a
    // hundred moves is a hundred listeners, not a leak.
    queue.setMaxListeners(0);
    // Bull re-emits its Redis clients' errors ("Connection is closed" while a queue closes, a
    // Redis restart): without a listener an EventEmitter throws them as uncaught exceptions.
    queue.on('error', (err: Error) => this.logger.warn({ err }, 'job queue: Redis error'));
    // Bull 4.16's process() fires setWorkerName() without handling its promise: a queue closed
    // before its blocking client has named itself leaves a "Connection is closed" rejection
    // unhandled (seen when a server stops right after starting).
    const named = queue as unknown as { setWorkerName(): Promise<unknown> };
    const setWorkerName = named.setWorkerName.bind(queue);
    named.setWorkerName = () => setWorkerName().catch((err: unknown) => this.logger.debug({ err }, 'job queue: worker not named'));
  }

  define<T>(name: string, handler: JobHandler<T>, opts: { concurrency?: number } = {}): void {
    this.definitions.set(name, { handler: observedJob(name, handler as JobHandler, this.metrics), concurrency: opts.concurrency ?? 1 });
  }

  onApplicationBootstrap(): void {
    if (!this.processing) return;
    for (const [name, { handler, concurrency }] of this.definitions) {
      // Rejects when the queue closes while the processor is still starting (a short-lived
      // process such as `stowage packages migrate`): not a reason to crash on an unhandled rejection.
      this.queue
        .process(name, concurrency, (job: Job) => handler(job.data))
        .catch((err: unknown) => this.logger.debug({ err, job: name }, 'job processor stopped'));
    }
    this.queue.on('failed', (job, err) => {
      if (job.attemptsMade >= (job.opts.attempts ?? 1)) this.logger.error({ err, job: job.name, id: job.id }, 'job failed');
    });
  }

  async add<T>(name: string, data: T, opts: JobOptions = {}): Promise<void> {
    const o = { ...DEFAULT_JOB_OPTIONS, ...opts };
    const job = await this.queue.add(name, data, {
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: o.backoffMs },
      delay: o.delayMs,
      jobId: o.jobId,
      removeOnComplete: 1000,
      removeOnFail: 5000,
    });
    this.added.add(job);
    void job
      .finished()
      .catch(() => undefined)
      .finally(() => this.added.delete(job));
  }

  async repeat(name: string, everyMs: number): Promise<void> {
    await this.queue.add(name, {}, { repeat: { every: everyMs }, jobId: `repeat:${name}`, removeOnComplete: true, removeOnFail: 100 });
  }

  async check(): Promise<void> {
    await this.queue.client.ping();
  }

  async counts(): Promise<JobCounts> {
    const c = await this.queue.getJobCounts();
    return { waiting: c.waiting + c.delayed, active: c.active, failed: c.failed };
  }

  async drain(): Promise<void> {
    while (this.added.size) await Promise.allSettled([...this.added].map((j) => j.finished()));
  }
}
