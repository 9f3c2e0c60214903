import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

import { BlobMigration, type MigrationRun } from '../blobs/blob-migration';
import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import { StowageMetrics } from './stowage-metrics';

/** The one queue Stowage's jobs share (Bull's queue name, and the in-process queue's). */
export const QUEUE_LABEL = 'stowage';
/** A scrape waits no longer than this for Redis or the database; a figure it could not read is left out. */
const READ_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), READ_TIMEOUT_MS).unref())]);
}

/**
 * Figures read when Prometheus scrapes, not counted as they happen: the job queue's depth
 * (shared by every process on Redis, so each server reports the same), the database pool of
 * this process, and the progress of the latest `stowage packages migrate` run (from
 * `blob_migration_runs`, written by the migrating process after each batch).
 */
@Injectable()
export class StateGauges {
  private readonly logger = new Logger('metrics');
  private runRead?: Promise<MigrationRun | null>;

  constructor(
    metrics: StowageMetrics,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobQueue,
    private readonly migration: BlobMigration,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {
    const database = config.database.url ? 'postgres' : 'embedded';
    metrics.gauge(
      'stowage_job_queue_jobs',
      'Jobs in the queue by state: waiting (delayed and retrying included), active, failed (kept by Bull, or failed since start in process)',
      ['queue', 'state'],
      (g) =>
        this.read('job queue', async () => {
          const c = await withTimeout(this.jobs.counts());
          for (const state of ['waiting', 'active', 'failed'] as const) g.set({ queue: QUEUE_LABEL, state }, c[state]);
        }),
    );
    const pool = (read: (p: Pool) => number) => (g: { set(labels: { database: string }, v: number): void }) => {
      const p = this.pool();
      if (p) g.set({ database }, read(p));
    };
    metrics.gauge(
      'stowage_db_pool_connections',
      'Database connections this process holds open (embedded: the one PGlite session)',
      ['database'],
      pool((p) => p.totalCount),
    );
    metrics.gauge(
      'stowage_db_pool_idle_connections',
      'Open database connections not in use',
      ['database'],
      pool((p) => p.idleCount),
    );
    metrics.gauge(
      'stowage_db_pool_waiting_clients',
      'Queries waiting for a connection (embedded: for the single session)',
      ['database'],
      pool((p) => p.waitingCount),
    );
    metrics.gauge(
      'stowage_db_pool_max_connections',
      'Connections the pool may open (database.pool_size; 1 embedded)',
      ['database'],
      pool((p) => p.options.max ?? 10),
    );
    metrics.gauge(
      'stowage_blob_migration_blobs',
      'The latest `stowage packages migrate` run: blobs in all (total) and dealt with (done: moved, skipped, failed)',
      ['target', 'state'],
      (g) =>
        this.read('blob migration', async () => {
          const run = await this.latestRun();
          if (!run) return;
          for (const state of ['total', 'done', 'moved', 'skipped', 'failed'] as const) g.set({ target: run.to, state }, run[state]);
        }),
    );
    metrics.gauge('stowage_blob_migration_moved_bytes', 'The latest migration run: bytes moved', ['target'], (g) =>
      this.read('blob migration', async () => {
        const run = await this.latestRun();
        if (run) g.set({ target: run.to }, run.bytes);
      }),
    );
    metrics.gauge(
      'stowage_blob_migration_running',
      'The latest migration run: 1 until its process ends it (a killed one stays 1: see the update time)',
      ['target'],
      (g) =>
        this.read('blob migration', async () => {
          const run = await this.latestRun();
          if (run) g.set({ target: run.to }, run.running ? 1 : 0);
        }),
    );
    metrics.gauge(
      'stowage_blob_migration_updated_timestamp_seconds',
      'The latest migration run: when it last recorded progress (Unix time)',
      ['target'],
      (g) =>
        this.read('blob migration', async () => {
          const run = await this.latestRun();
          if (run) g.set({ target: run.to }, run.updated_at.getTime() / 1000);
        }),
    );
  }

  /** One read of the latest run serves the four migration gauges of a scrape (their collects run together). */
  private latestRun(): Promise<MigrationRun | null> {
    if (!this.runRead) {
      const read = withTimeout(this.migration.latestRun());
      this.runRead = read;
      const clear = () => {
        if (this.runRead === read) this.runRead = undefined;
      };
      read.then(clear, clear);
    }
    return this.runRead;
  }

  /** TypeORM's postgres driver holds a pg Pool in both modes (embedded: pg's Pool of one PGlite client). */
  private pool(): Pool | null {
    if (!this.ds.isInitialized) return null;
    return ((this.ds.driver as unknown as { master?: Pool }).master ?? null) as Pool | null;
  }

  private async read(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn({ err }, `metrics: could not read the ${what}`);
    }
  }
}
