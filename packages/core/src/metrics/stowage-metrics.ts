import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import { CounterFamily, HistogramFamily } from './metric-series';

/** Request latency: a cached file GET takes about a millisecond, an upload of a large file minutes. */
export const HTTP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Store operations: a local stat takes microseconds, a put as long as its upload. */
export const STORE_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
export const JOB_LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

let processRegistry: Registry | undefined;

/**
 * Node's own figures (process CPU and memory, heap, event loop lag, GC) under their standard
 * names (`process_*`, `nodejs_*`), which Node.js dashboards know. They are the process's, so
 * collected once per process whatever number of apps it runs (tests start several).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Every metric one Stowage process exposes at `/-/metrics` (Prometheus text format). One per
 * app: each server or worker process answers for itself, and Prometheus adds them up.
 * HTTP, store and job counters are `CounterFamily`/`HistogramFamily` series (no allocation per
 * request); figures read at scrape time (queue depth, pool use, migration progress) are gauges
 * whose `collect` the scrape runs (`gauge()`).
 */
export class StowageMetrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new Registry();

  readonly httpRequests = this.family(
    new CounterFamily('stowage_http_requests_total', 'HTTP requests answered, by format, method, route pattern and status code', [
      'format',
      'method',
      'route',
      'status',
    ]),
  );
  readonly httpDuration = this.family(
    new HistogramFamily(
      'stowage_http_request_duration_seconds',
      'Time from routing a request to the end of its answer, by format, method and route pattern',
      ['format', 'method', 'route'],
      HTTP_LATENCY_BUCKETS,
    ),
  );
  readonly httpReceivedBytes = this.family(
    new CounterFamily('stowage_http_received_bytes_total', 'Request body bytes received (uploads), by format', ['format']),
  );
  readonly httpSentBytes = this.family(
    new CounterFamily('stowage_http_sent_bytes_total', 'Response body bytes sent (downloads), by format', ['format']),
  );

  readonly storeOperations = this.family(
    new CounterFamily('stowage_blob_store_operations_total', 'Blob store operations, by store and operation', ['store', 'operation']),
  );
  readonly storeErrors = this.family(
    new CounterFamily('stowage_blob_store_errors_total', 'Blob store operations that failed (a missing key is no failure)', [
      'store',
      'operation',
    ]),
  );
  readonly storeDuration = this.family(
    new HistogramFamily(
      'stowage_blob_store_operation_duration_seconds',
      'Blob store operation time, by store and operation',
      ['store', 'operation'],
      STORE_LATENCY_BUCKETS,
    ),
  );

  readonly jobsProcessed = this.family(
    new CounterFamily('stowage_jobs_processed_total', 'Job attempts this process ran, by job name and result (completed, failed)', [
      'job',
      'result',
    ]),
  );
  readonly jobDuration = this.family(
    new HistogramFamily(
      'stowage_job_duration_seconds',
      'Time one job attempt ran in this process, by job name',
      ['job'],
      JOB_LATENCY_BUCKETS,
    ),
  );

  constructor() {
    processMetrics();
  }

  private family<F extends CounterFamily | HistogramFamily>(f: F): F {
    this.registry.registerMetric(f.asMetric());
    return f;
  }

  /** A gauge read at each scrape: `collect` sets its values (after a reset, so a label set it no longer sets disappears). */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>) => Promise<void> | void): void {
    this.registry.registerMetric(
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [],
        async collect() {
          this.reset();
          await collect(this);
        },
      }),
    );
  }

  /** The text a scrape answers with: this app's metrics and the process's. */
  async scrape(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }
}
