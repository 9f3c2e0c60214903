import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import type { BlobStoreKind } from '../storage/blob-store';
import { FileStorage } from '../storage/file-storage.service';
import { BlobSweeper, type LeftoverReport } from './blob-sweeper';

export const COLLECT_BLOBS_JOB = 'blobs.collect';
/** Removes what crashes left in the stores (BlobSweeper); `packages verify --sweep` does the same. */
export const SWEEP_LEFTOVERS_JOB = 'blobs.sweep';
const BATCH = 500;
/** A sweep lists every stored file and object, so it runs less often than collection. */
const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * Removes blobs no package file uses once their grace period is over. Rows are locked and
 * deleted in one transaction with the bytes, so an upload that finds the same bytes
 * concurrently either claims the blob first or, waiting on the lock, stores its own copy.
 */
@Injectable()
export class BlobCollector implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('blobs');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    private readonly sweeper: BlobSweeper,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.define(COLLECT_BLOBS_JOB, () => this.collect());
    this.jobs.define(SWEEP_LEFTOVERS_JOB, () => this.sweepLeftovers());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.repeat(COLLECT_BLOBS_JOB, 15 * 60_000);
    await this.jobs.repeat(SWEEP_LEFTOVERS_JOB, SWEEP_EVERY_MS);
  }

  /** Temp files of cut-short writes and stored keys no blob row names, older than the grace period. */
  async sweepLeftovers(): Promise<LeftoverReport> {
    const report = await this.sweeper.sweep({ remove: true });
    for (const [store, l] of Object.entries(report)) {
      const { unfinished, unreferenced } = l!;
      if (!unfinished.removed.count && !unreferenced.removed.count) continue;
      this.logger.log(
        { store, unfinished: unfinished.removed, unreferenced: unreferenced.removed },
        `removed ${unfinished.removed.count} unfinished upload(s) and ${unreferenced.removed.count} unreferenced blob file(s) from ${store} storage`,
      );
    }
    return report;
  }

  /** Returns how many blobs were removed. */
  async collect(graceHours = this.config.packages.blob_grace_period_hours): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.ds.transaction(async (m) => {
        const rows: { sha256: string; store: BlobStoreKind; storage_key: string }[] = await m.query(
          `SELECT sha256, store, storage_key FROM blobs b
           WHERE coalesce(b.orphaned_at, b.created_at) <= now() - make_interval(hours => $1)
             AND NOT EXISTS (SELECT 1 FROM package_files f WHERE f.file_sha256 = b.sha256)
             AND NOT EXISTS (SELECT 1 FROM remote_files r WHERE r.file_sha256 = b.sha256)
           LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
          [graceHours],
        );
        if (!rows.length) return 0;
        for (const r of rows) await this.storage.blobStore(r.store).delete(r.storage_key);
        await m.query('DELETE FROM blobs WHERE sha256 = ANY($1)', [rows.map((r) => r.sha256)]);
        return rows.length;
      });
      removed += n;
      if (n < BATCH) break;
    }
    if (removed) this.logger.log(`removed ${removed} unused blob(s)`);
    return removed;
  }
}
