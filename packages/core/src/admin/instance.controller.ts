import { Controller, Get, Inject } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { ApiAccess } from '../auth/api-access.guard';
import { BlobMigration } from '../blobs/blob-migration';
import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import { FormatRegistry } from '../plugin/format-registry';
import { BLOB_STORES, type BlobStores } from '../storage/file-storage.service';

/**
 * Stowage's own admin view of the package registry (the UI's admin page): the formats this
 * server serves, the blobs and bytes in each store, the background jobs still to run, and the
 * latest `stowage packages migrate` run's progress (which its process records after each batch).
 */
@Controller('api/v4/application')
export class InstanceController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly formats: FormatRegistry,
    private readonly jobs: JobQueue,
    private readonly migration: BlobMigration,
    @Inject(BLOB_STORES) private readonly stores: BlobStores,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get('packages')
  @ApiAccess({ admin: true })
  async packages() {
    const rows: { store: string; blobs: string; bytes: string | null }[] = await this.ds.query(
      'SELECT store, count(*) AS blobs, sum(size) AS bytes FROM blobs GROUP BY store',
    );
    const kinds = [...new Set([...this.stores.keys(), ...rows.map((r) => r.store)])].sort();
    return {
      /** `packages.enabled`: false turns every package endpoint off (404). */
      packages_enabled: this.config.packages.enabled,
      formats: this.formats.names().map((name) => ({ name, enabled: true })),
      stores: kinds.map((kind) => {
        const row = rows.find((r) => r.store === kind);
        return { kind, configured: this.stores.has(kind as never), blobs: Number(row?.blobs ?? 0), bytes: Number(row?.bytes ?? 0) };
      }),
      jobs: await this.jobs.counts(),
      migration: await this.migration.latestRun(),
    };
  }
}
