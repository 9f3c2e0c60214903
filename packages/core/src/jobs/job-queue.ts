export interface JobOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** First retry delay; each later retry doubles it. */
  backoffMs?: number;
  delayMs?: number;
  /** Adding a job whose id is queued already is a no-op. */
  jobId?: string;
}

export interface JobCounts {
  waiting: number;
  active: number;
  failed: number;
}

export type JobHandler<T = unknown> = (data: T) => Promise<unknown>;

/**
 * Background work: Bull on Redis when `redis.url` is set, an in-process queue otherwise.
 * Plugins `define` their handlers at start-up; a process consumes jobs only when it runs
 * processors (`stowage worker`, or `stowage serve` with `jobs.run_in_server`).
 */
export abstract class JobQueue {
  abstract define<T>(name: string, handler: JobHandler<T>, opts?: { concurrency?: number }): void;
  abstract add<T>(name: string, data: T, opts?: JobOptions): Promise<void>;
  /** Runs `name` every `everyMs` (once across all processes sharing the queue). */
  abstract repeat(name: string, everyMs: number): Promise<void>;
  /** Resolves when the queue's backing service answers. */
  abstract check(): Promise<void>;
  /** Jobs queued and running now, and those that failed for good (since start, in process; those Bull keeps, on Redis). */
  abstract counts(): Promise<JobCounts>;
  /** Waits for the jobs this process has queued or is running to settle (tests use this). */
  abstract drain(): Promise<void>;
}

export const DEFAULT_JOB_OPTIONS = { attempts: 3, backoffMs: 1000 } as const;
