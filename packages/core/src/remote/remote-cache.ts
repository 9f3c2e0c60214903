import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { markOrphans } from '../blobs/orphans';
import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';

export const EVICT_REMOTE_FILES_JOB = 'remote.evict';
const EVICT_EVERY_MS = 60 * 60_000;

export interface CachedRemoteFile {
  id: number;
  package_type: string;
  package_name: string;
  version: string | null;
  file_name: string;
  size: number;
  file_sha256: string;
  upstream_url: string;
  created_at: Date;
  last_used_at: Date;
}

export interface RemoteFilter {
  packageType?: string;
  packageName?: string;
}

export interface EvictionPolicy {
  /** Bytes kept at most, least recently used removed first; 0: no limit. */
  maxSize: number;
  /** Days since the last download; 0: no limit. */
  maxUnusedDays: number;
}

export interface Removed {
  files: number;
  bytes: number;
}

/**
 * What the upstream caches hold, for the API and the CLI: list, remove, and the eviction
 * policy (`packages.remote_cache`) run hourly. A removed file's blob is marked orphaned,
 * so the blob collector deletes its bytes after the grace period, as for deleted packages.
 */
@Injectable()
export class RemoteCache implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('remote');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobQueue,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.define(EVICT_REMOTE_FILES_JOB, () => this.evict(this.policy()));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.repeat(EVICT_REMOTE_FILES_JOB, EVICT_EVERY_MS);
  }

  policy(): EvictionPolicy {
    const c = this.config.packages.remote_cache;
    return { maxSize: c.max_size, maxUnusedDays: c.max_unused_days };
  }

  private where(filter: RemoteFilter, params: unknown[]): string {
    const clauses = ['true'];
    if (filter.packageType !== undefined) clauses.push(`package_type = $${params.push(filter.packageType)}`);
    if (filter.packageName !== undefined) clauses.push(`package_name = $${params.push(filter.packageName)}`);
    return clauses.join(' AND ');
  }

  async list(filter: RemoteFilter, page: { offset: number; perPage: number }): Promise<{ total: number; files: CachedRemoteFile[] }> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM remote_files WHERE ${where}`, params);
    const rows: CachedRemoteFile[] = await this.ds.query(
      `SELECT id, package_type, package_name, version, file_name, size, file_sha256, url AS upstream_url, created_at, last_used_at
       FROM remote_files WHERE ${where} ORDER BY id LIMIT ${page.perPage} OFFSET ${page.offset}`,
      params,
    );
    return { total, files: rows.map((r) => ({ ...r, id: Number(r.id), size: Number(r.size) })) };
  }

  /** Removes the cached files (and metadata documents) matching the filter, or the file with this id. */
  async remove(filter: RemoteFilter & { id?: number }): Promise<Removed> {
    return this.ds.transaction(async (m) => {
      const params: unknown[] = [];
      let where = this.where(filter, params);
      if (filter.id !== undefined) where += ` AND id = $${params.push(filter.id)}`;
      const removed = await this.deleteFiles(m, `DELETE FROM remote_files WHERE ${where} RETURNING file_sha256, size`, params);
      if (filter.id === undefined) {
        const docParams: unknown[] = [];
        await m.query(`DELETE FROM remote_documents WHERE ${this.where(filter, docParams)}`, docParams);
      }
      return removed;
    });
  }

  /** Applies an eviction policy now; `stowage remote prune` and the hourly job call it. */
  async evict(policy: EvictionPolicy): Promise<Removed> {
    const total: Removed = { files: 0, bytes: 0 };
    const add = (r: Removed) => ((total.files += r.files), (total.bytes += r.bytes));
    if (policy.maxUnusedDays) {
      add(
        await this.ds.transaction((m) =>
          this.deleteFiles(
            m,
            `DELETE FROM remote_files WHERE last_used_at < now() - make_interval(days => $1) RETURNING file_sha256, size`,
            [policy.maxUnusedDays],
          ),
        ),
      );
    }
    if (policy.maxSize) {
      add(
        await this.ds.transaction((m) =>
          this.deleteFiles(
            m,
            `DELETE FROM remote_files WHERE id IN (
               SELECT id FROM (
                 SELECT id, sum(size) OVER (ORDER BY last_used_at DESC, id DESC) AS kept FROM remote_files
               ) ranked WHERE kept > $1)
             RETURNING file_sha256, size`,
            [policy.maxSize],
          ),
        ),
      );
    }
    if (total.files) this.logger.log(total, `evicted ${total.files} cached upstream file(s), ${total.bytes} bytes`);
    await this.evictDocuments(policy);
    return total;
  }

  /**
   * Metadata documents nobody asked for lately (a document asked for is revalidated every
   * metadata_ttl, so `checked_at` stands for its last use): every probe of a name or path the
   * upstream lacks stores its 404, so those go after a day; with `maxUnusedDays`, any document
   * that old. A removed document is fetched again when next asked for.
   */
  private async evictDocuments(policy: EvictionPolicy): Promise<void> {
    await this.ds.query(
      `DELETE FROM remote_documents WHERE checked_at < now() - make_interval(days => $1) OR (status <> 200 AND checked_at < now() - interval '1 day')`,
      [policy.maxUnusedDays || 36_500],
    );
  }

  private async deleteFiles(m: EntityManager, sql: string, params: unknown[]): Promise<Removed> {
    const result: unknown[] = await m.query(sql, params);
    // TypeORM's postgres driver answers DELETE … RETURNING with [rows, affectedCount].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { file_sha256: string; size: string }[];
    await markOrphans(
      m,
      rows.map((r) => r.file_sha256),
    );
    return { files: rows.length, bytes: rows.reduce((n, r) => n + Number(r.size), 0) };
  }
}
