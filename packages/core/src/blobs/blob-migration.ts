import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import type { BlobStoreKind } from '../storage/blob-store';
import { FileStorage } from '../storage/file-storage.service';
import { MOVE_BLOB_JOB, type MoveBlobJob } from './blob-move-job';
import { digestStored } from './blob-mover';
import { BlobSweeper, type LeftoverReport } from './blob-sweeper';

export interface MigrationProgress {
  to: BlobStoreKind;
  /** Blobs in the source store when the run started. */
  total: number;
  /** Of those, how many have been dealt with so far. */
  done: number;
  moved: number;
  /** Already in the target store, or removed meanwhile. */
  skipped: number;
  failed: number;
  /** Bytes moved. */
  bytes: number;
}

export interface MigrationSummary extends MigrationProgress {
  /** sha256 of each blob that is still in the source store after its job gave up. */
  failures: string[];
  /** The run stopped early (signal). */
  interrupted: boolean;
}

/** A run as `blob_migration_runs` holds it: `running` until its process ends it (one killed leaves it so; see updated_at). */
export interface MigrationRun extends MigrationProgress {
  running: boolean;
  interrupted: boolean;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface VerifyProblem {
  sha256: string;
  store: string;
  storage_key: string;
  problem: string;
}

export interface VerifySummary {
  checked: number;
  ok: number;
  bytes: number;
  problems: VerifyProblem[];
  /** Per store: what crashes left beside the blob rows (harmless; swept after the grace period). */
  leftovers: LeftoverReport;
  /** The grace period `leftovers` counted stale against. */
  graceHours: number;
  /** Stale leftovers were removed (`--sweep`). */
  swept: boolean;
}

export interface VerifyOptions {
  onProgress?: (checked: number, total: number) => void;
  concurrency?: number;
  /** Also remove leftovers older than the grace period. */
  sweep?: boolean;
  /** Default: packages.blob_grace_period_hours. */
  graceHours?: number;
}

export interface MigrateOptions {
  to: BlobStoreKind;
  /** Blobs enqueued at a time (default 100). */
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (p: MigrationProgress) => void;
}

const other = (k: BlobStoreKind): BlobStoreKind => (k === 'object' ? 'local' : 'object');

/**
 * `stowage packages migrate` and `verify`. A migration pages through the source store's
 * blobs by sha256, enqueues a move job for each blob of a batch, waits for the batch, and
 * counts what the rows say afterwards; any worker process may run the jobs. Every move is
 * safe to repeat, so an interrupted migration is finished by running it again.
 */
@Injectable()
export class BlobMigration {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    private readonly sweeper: BlobSweeper,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  async migrate(opts: MigrateOptions): Promise<MigrationSummary> {
    const to = opts.to;
    const from = other(to);
    this.storage.blobStore(from);
    this.storage.blobStore(to); // both must be configured
    const batch = Math.max(1, opts.batch ?? 100);
    const run = randomUUID().slice(0, 8);
    const counts: { store: string; n: string }[] = await this.ds.query('SELECT store, count(*) AS n FROM blobs GROUP BY store');
    const count = (k: string) => Number(counts.find((c) => c.store === k)?.n ?? 0);
    const s: MigrationSummary = {
      to,
      total: count(from),
      done: 0,
      moved: 0,
      skipped: count(to),
      failed: 0,
      bytes: 0,
      failures: [],
      interrupted: false,
    };
    opts.onProgress?.({ ...s });
    const record = await this.recordRun(s);

    try {
      await this.migrateBatches(s, from, batch, run, opts, record);
    } finally {
      await record(true).catch(() => undefined);
    }
    return s;
  }

  private async migrateBatches(
    s: MigrationSummary,
    from: BlobStoreKind,
    batch: number,
    run: string,
    opts: MigrateOptions,
    record: (finished?: boolean) => Promise<void>,
  ): Promise<void> {
    const to = s.to;
    let after = '';
    for (;;) {
      if (opts.signal?.aborted) {
        s.interrupted = true;
        break;
      }
      const rows: { sha256: string; size: string }[] = await this.ds.query(
        'SELECT sha256, size FROM blobs WHERE store = $1 AND sha256 > $2 ORDER BY sha256 LIMIT $3',
        [from, after, batch],
      );
      if (!rows.length) break;
      after = rows[rows.length - 1].sha256;
      for (const r of rows) {
        await this.jobs.add<MoveBlobJob>(
          MOVE_BLOB_JOB,
          { sha256: r.sha256, to },
          { jobId: `blob-migrate:${run}:${r.sha256}`, attempts: 3, backoffMs: 500 },
        );
      }
      await this.jobs.drain();
      const now: { sha256: string; store: string }[] = await this.ds.query('SELECT sha256, store FROM blobs WHERE sha256 = ANY($1)', [
        rows.map((r) => r.sha256),
      ]);
      const stores = new Map(now.map((r) => [r.sha256, r.store]));
      for (const r of rows) {
        const store = stores.get(r.sha256);
        if (store === undefined) s.skipped++;
        else if (store === to) {
          s.moved++;
          s.bytes += Number(r.size);
        } else {
          s.failed++;
          s.failures.push(r.sha256);
        }
      }
      s.done += rows.length;
      opts.onProgress?.({ ...s });
      await record();
    }
  }

  /**
   * Records a run in `blob_migration_runs` and gives what writes its progress there after each
   * batch (and, with `finished`, its end), for the admin view of any server.
   */
  private async recordRun(s: MigrationSummary): Promise<(finished?: boolean) => Promise<void>> {
    const id = randomUUID();
    await this.ds.query('INSERT INTO blob_migration_runs (id, target, total, skipped) VALUES ($1, $2, $3, $4)', [
      id,
      s.to,
      s.total,
      s.skipped,
    ]);
    return async (finished = false) => {
      await this.ds.query(
        `UPDATE blob_migration_runs SET done = $2, moved = $3, skipped = $4, failed = $5, bytes = $6, interrupted = $7,
           updated_at = now(), finished_at = CASE WHEN $8 THEN now() END WHERE id = $1`,
        [id, s.done, s.moved, s.skipped, s.failed, s.bytes, s.interrupted, finished],
      );
    };
  }

  /** The latest `packages migrate` run, finished or not; null when none ever ran. */
  async latestRun(): Promise<MigrationRun | null> {
    const [row]: Record<string, string | boolean | Date | null>[] = await this.ds.query(
      'SELECT * FROM blob_migration_runs ORDER BY started_at DESC LIMIT 1',
    );
    if (!row) return null;
    const n = (k: string) => Number(row[k]);
    return {
      to: row.target as BlobStoreKind,
      running: row.finished_at === null,
      total: n('total'),
      done: n('done'),
      moved: n('moved'),
      skipped: n('skipped'),
      failed: n('failed'),
      bytes: n('bytes'),
      interrupted: row.interrupted === true,
      started_at: row.started_at as Date,
      updated_at: row.updated_at as Date,
      finished_at: row.finished_at as Date | null,
    };
  }

  /**
   * Reads every blob back from its store and checks its size and sha256, then counts (and
   * with `sweep` removes) what crashes left in the stores.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifySummary> {
    const [{ n }] = await this.ds.query('SELECT count(*) AS n FROM blobs');
    const total = Number(n);
    const graceHours = opts.graceHours ?? this.config.packages.blob_grace_period_hours;
    const swept = opts.sweep ?? false;
    const result: VerifySummary = { checked: 0, ok: 0, bytes: 0, problems: [], leftovers: {}, graceHours, swept };
    let after = '';
    for (;;) {
      const rows: { sha256: string; size: string; store: BlobStoreKind; storage_key: string }[] = await this.ds.query(
        'SELECT sha256, size, store, storage_key FROM blobs WHERE sha256 > $1 ORDER BY sha256 LIMIT 200',
        [after],
      );
      if (!rows.length) break;
      after = rows[rows.length - 1].sha256;
      let next = 0;
      const worker = async () => {
        while (next < rows.length) {
          const r = rows[next++];
          const problem = await this.check(r).catch((err: Error) => `unreadable: ${err.message}`);
          result.checked++;
          if (problem) result.problems.push({ sha256: r.sha256, store: r.store, storage_key: r.storage_key, problem });
          else {
            result.ok++;
            result.bytes += Number(r.size);
          }
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
      opts.onProgress?.(result.checked, total);
    }
    result.leftovers = await this.sweeper.sweep({ remove: swept, graceHours });
    return result;
  }

  /** Keys in a listable store that no blob row refers to, stored before `olderThan`. */
  async unreferencedKeys(kind: BlobStoreKind, olderThan = new Date()): Promise<string[]> {
    return this.sweeper.unreferencedKeys(kind, olderThan);
  }

  /** Removes one store's leftovers older than `graceHours`; returns how many were removed. */
  async sweep(kind: BlobStoreKind, graceHours: number): Promise<number> {
    const l = await this.sweeper.sweepStore(kind, { remove: true, graceHours });
    return l.unreferenced.removed.count + l.unfinished.removed.count;
  }

  private async check(r: { sha256: string; size: string; store: BlobStoreKind; storage_key: string }): Promise<string | null> {
    const store = this.storage.storeIfConfigured?.(r.store) ?? null;
    if (!store) return `${r.store} storage is not configured`;
    const stat = await store.stat(r.storage_key);
    if (!stat) return 'missing';
    if (stat.size !== Number(r.size)) return `size ${stat.size}, expected ${r.size}`;
    const d = await digestStored(store, r.storage_key);
    if (d.size !== Number(r.size)) return `read ${d.size} bytes, expected ${r.size}`;
    if (d.sha256 !== r.sha256) return `sha256 ${d.sha256}`;
    return null;
  }
}
