import { Logger, type OnApplicationShutdown } from '@nestjs/common';

import type { StowageMetrics } from '../metrics/stowage-metrics';
import { DEFAULT_JOB_OPTIONS, type JobCounts, type JobHandler, type JobOptions, JobQueue } from './job-queue';
import { observedJob } from './observed-job';

interface Definition {
  handler: JobHandler;
  concurrency: number;
  running: number;
  waiting: Array<() => void>;
}

/** The embedded default: jobs run in this process, with retries; nothing survives a restart. */
export class InProcessJobQueue extends JobQueue implements OnApplicationShutdown {
  private readonly logger = new Logger('jobs');
  private readonly definitions = new Map<string, Definition>();
  private readonly pending = new Set<Promise<void>>();
  private readonly queuedIds = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private failed = 0;

  constructor(private readonly metrics?: StowageMetrics) {
    super();
  }

  define<T>(name: string, handler: JobHandler<T>, opts: { concurrency?: number } = {}): void {
    this.definitions.set(name, {
      handler: observedJob(name, handler as JobHandler, this.metrics),
      concurrency: opts.concurrency ?? 1,
      running: 0,
      waiting: [],
    });
  }

  async add<T>(name: string, data: T, opts: JobOptions = {}): Promise<void> {
    if (this.closed) throw new Error('the job queue is closed');
    if (!this.definitions.has(name)) throw new Error(`no job handler is defined for ${name}`);
    if (opts.jobId) {
      if (this.queuedIds.has(opts.jobId)) return;
      this.queuedIds.add(opts.jobId);
    }
    const run = this.run(name, data, { ...DEFAULT_JOB_OPTIONS, ...opts }).finally(() => {
      this.pending.delete(run);
      if (opts.jobId) this.queuedIds.delete(opts.jobId);
    });
    this.pending.add(run);
  }

  async repeat(name: string, everyMs: number): Promise<void> {
    const timer = setInterval(() => void this.add(name, {}, { jobId: `repeat:${name}`, attempts: 1 }).catch(() => undefined), everyMs);
    timer.unref();
    this.timers.push(timer);
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error('the job queue is closed');
  }

  async counts(): Promise<JobCounts> {
    const active = [...this.definitions.values()].reduce((n, d) => n + d.running, 0);
    return { waiting: this.pending.size - active, active, failed: this.failed };
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async run(name: string, data: unknown, opts: Required<Pick<JobOptions, 'attempts' | 'backoffMs'>> & JobOptions) {
    if (opts.delayMs) await sleep(opts.delayMs);
    const def = this.definitions.get(name)!;
    if (def.running >= def.concurrency) await new Promise<void>((resolve) => def.waiting.push(resolve));
    def.running++;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await def.handler(data);
          return;
        } catch (err) {
          if (attempt >= opts.attempts || this.closed) {
            this.logger.error({ err, job: name, attempts: attempt }, 'job failed');
            this.failed++;
            return;
          }
          await sleep(opts.backoffMs * 2 ** (attempt - 1));
        }
      }
    } finally {
      def.running--;
      def.waiting.shift()?.();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.drain();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
