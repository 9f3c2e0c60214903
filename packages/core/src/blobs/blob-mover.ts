import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';

import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import { JobQueue } from '../jobs/job-queue';
import { DownloadLookups } from '../packages/download-lookups';
import type { BlobStore, BlobStoreKind } from '../storage/blob-store';
import { FileStorage } from '../storage/file-storage.service';
import { newStorageKey } from '../storage/storage-key';
import { MOVE_BLOB_JOB, type MoveBlobJob } from './blob-move-job';

/** The bytes read from a store are not the blob's (wrong size or sha256). */
export class BlobIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobIntegrityError';
  }
}

export interface BlobRow {
  sha256: string;
  size: number;
  store: BlobStoreKind;
  storage_key: string;
}

export type MoveResult = { outcome: 'moved'; bytes: number } | { outcome: 'skipped'; reason: 'absent' | 'in-place' | 'changed' };

/** Counts and hashes what passes through. */
class Sha256Meter extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  sha256 = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    done();
  }
}

/** Reads a stored copy to the end; its size and sha256. */
export async function digestStored(store: BlobStore, key: string): Promise<{ size: number; sha256: string }> {
  const stream: Readable = await store.get(key);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

export const CONCURRENT_MOVES = 4;

/**
 * Moves a blob's bytes between stores without a moment where they are unreadable:
 * copy under a new key (hashing the source as it is read), read the copy back and check
 * size and sha256, then flip the row with a compare-and-set on (store, storage_key) —
 * so a concurrent move, release or collection is never overwritten — and only then
 * remove the old copy. Readers that looked up the row before the flip and find the old
 * copy gone retry with the new row (FileStorage). A crash before the flip leaves an
 * unreferenced copy in the target store (harmless); after it, one in the source store; the
 * sweep (BlobSweeper) removes either after the grace period. Running a move again is always safe.
 */
@Injectable()
export class BlobMover implements OnModuleInit {
  private readonly logger = new Logger('blobs');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    private readonly lookups: DownloadLookups,
  ) {}

  onModuleInit(): void {
    this.jobs.define<MoveBlobJob>(MOVE_BLOB_JOB, (job) => this.move(job.sha256, job.to), { concurrency: CONCURRENT_MOVES });
  }

  async row(sha256: string): Promise<BlobRow | null> {
    const [row] = await this.ds.query('SELECT sha256, size, store, storage_key FROM blobs WHERE sha256 = $1', [sha256]);
    return row ? { sha256: row.sha256, size: Number(row.size), store: row.store, storage_key: row.storage_key } : null;
  }

  async move(sha256: string, to: BlobStoreKind): Promise<MoveResult> {
    const row = await this.row(sha256);
    if (!row) return { outcome: 'skipped', reason: 'absent' };
    if (row.store === to) return { outcome: 'skipped', reason: 'in-place' };
    const source = this.storage.blobStore(row.store);
    const target = this.storage.blobStore(to);
    const newKey = newStorageKey();

    const keepOld = this.keepsOldCopy(source, row);
    let input: Readable | undefined;
    try {
      const meter = new Sha256Meter();
      input = await source.get(row.storage_key);
      await target.put(
        newKey,
        pipeline(input, meter, () => undefined),
        { size: row.size },
      );
      if (meter.size !== row.size || meter.sha256 !== row.sha256) {
        throw new BlobIntegrityError(`blob ${sha256} in ${row.store} storage reads as ${meter.size} bytes with sha256 ${meter.sha256}`);
      }
      const copy = await digestStored(target, newKey);
      if (copy.size !== row.size || copy.sha256 !== row.sha256) {
        throw new BlobIntegrityError(
          `the copy of blob ${sha256} in ${to} storage reads back as ${copy.size} bytes with sha256 ${copy.sha256}`,
        );
      }
      // Restamped before the flip, so that no sweep can ever find it unreferenced and already old.
      if (keepOld) await keepOld.touch(row.storage_key);
    } catch (err) {
      input?.destroy();
      await target.delete(newKey).catch(() => undefined);
      // The blob was moved or removed meanwhile: nothing is left to do.
      const now = await this.row(sha256).catch(() => row);
      if (!now || now.store !== row.store || now.storage_key !== row.storage_key) return { outcome: 'skipped', reason: 'changed' };
      throw err;
    }

    const [flip] = await this.ds.query(
      `WITH u AS (
         UPDATE blobs SET store = $2, storage_key = $3 WHERE sha256 = $1 AND store = $4 AND storage_key = $5 RETURNING 1
       ) SELECT count(*)::int AS n FROM u`,
      [sha256, to, newKey, row.store, row.storage_key],
    );
    if (Number(flip.n) !== 1) {
      await target.delete(newKey).catch((err) => this.logger.warn({ err, key: newKey }, 'could not remove an unused copy'));
      return { outcome: 'skipped', reason: 'changed' };
    }
    this.lookups.changed();
    if (!keepOld) {
      await source
        .delete(row.storage_key)
        .catch((err) => this.logger.warn({ err, store: row.store, key: row.storage_key }, 'moved blob, but could not remove the old copy'));
    }
    return { outcome: 'moved', bytes: row.size };
  }

  /**
   * Clients may still hold presigned URLs for a copy in object storage without proxy_download:
   * then the move keeps the old copy, restamped (the store returned restamps it), and the sweep
   * removes it once the grace period has passed. null: the old copy is deleted after the flip.
   */
  private keepsOldCopy(source: BlobStore, row: BlobRow): (BlobStore & { touch(key: string): Promise<void> }) | null {
    const store = source as BlobStore & { touch?: (key: string) => Promise<void> };
    if (row.store !== 'object' || this.config.packages.object_store.proxy_download || typeof store.touch !== 'function') return null;
    return store as BlobStore & { touch(key: string): Promise<void> };
  }
}
