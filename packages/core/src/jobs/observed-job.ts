import { performance } from 'node:perf_hooks';

import type { StowageMetrics } from '../metrics/stowage-metrics';
import type { JobHandler } from './job-queue';

/** The handler, with each attempt counted (`stowage_jobs_processed_total`) and timed in this process. */
export function observedJob<T>(name: string, handler: JobHandler<T>, metrics: StowageMetrics | undefined): JobHandler<T> {
  if (!metrics) return handler;
  const completed = metrics.jobsProcessed.series({ job: name, result: 'completed' });
  const failed = metrics.jobsProcessed.series({ job: name, result: 'failed' });
  const duration = metrics.jobDuration.series({ job: name });
  return async (data) => {
    const start = performance.now();
    try {
      const result = await handler(data);
      completed.value++;
      return result;
    } catch (err) {
      failed.value++;
      throw err;
    } finally {
      duration.observe((performance.now() - start) / 1000);
    }
  };
}
