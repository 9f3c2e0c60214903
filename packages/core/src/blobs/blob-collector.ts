import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import type { BlobStoreKind } from '../storage/blob-store';
import { FileStorage } from '../storage/file-storage.service';

export const COLLECT_BLOBS_JOB = 'blobs.collect';
const BATCH = 500;

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
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.define(COLLECT_BLOBS_JOB, () => this.collect());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.repeat(COLLECT_BLOBS_JOB, 15 * 60_000);
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
