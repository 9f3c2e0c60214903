import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import {
  type BlobStore,
  type BlobStoreKind,
  hasUnfinishedWrites,
  isListable,
  type ListableBlobStore,
  type ListedKey,
} from '../storage/blob-store';
import { FileStorage } from '../storage/file-storage.service';

export interface Tally {
  count: number;
  bytes: number;
}

export interface Leftovers {
  /** Everything found, whatever its age. */
  found: Tally;
  /** Of those, last written before the grace period began: what a sweep removes. */
  stale: Tally;
  /** What this pass removed (nothing unless it was asked to). */
  removed: Tally;
}

export interface StoreLeftovers {
  /**
   * Stored keys no blob row names: an upload that crashed between the rename into place and
   * its INSERT, a move interrupted before its flip (the new copy) or after it (the old one).
   */
  unreferenced: Leftovers;
  /** Writes a crash cut short: local storage's temp files. */
  unfinished: Leftovers;
}

export type LeftoverReport = Partial<Record<BlobStoreKind, StoreLeftovers>>;

const HOUR_MS = 3600_000;
const PAGE = 500;

const none = (): Leftovers => ({ found: { count: 0, bytes: 0 }, stale: { count: 0, bytes: 0 }, removed: { count: 0, bytes: 0 } });

function count(l: Leftovers, size: number, stale: boolean, removed: boolean): void {
  const add = (t: Tally) => {
    t.count++;
    t.bytes += size;
  };
  add(l.found);
  if (stale) add(l.stale);
  if (removed) add(l.removed);
}

/**
 * Finds, and when asked removes, what crashes leave in the stores beside the blob rows.
 * Only what was last written before the grace period began (`packages.blob_grace_period_hours`,
 * at least an hour) is removed, and that is safe against work in progress:
 * - A temp file being written has the mtime of its last write, moments ago; the mtime is read
 *   again right before the unlink. A write that has written nothing for the whole grace
 *   period (an hour at the least) is taken as dead.
 * - An upload's blob file exists without a row between its rename into place and the INSERT
 *   of its row; a moved blob's new copy, between its rename and the row's flip. Its mtime is
 *   that of its last byte written (a rename keeps it), and only a rename, one INSERT or one
 *   read-back of the copy separate the two — milliseconds to minutes, never the grace period
 *   (the same bound the collector already relies on between a blob row and its file row).
 *   The row is looked up again, one key at a time, right before the delete.
 * - A copy a move leaves in object storage for presigned URLs is restamped before the flip
 *   (BlobMover), and its age is read again after the row check, so it lives a full grace
 *   period after the last URL for it was handed out.
 * - A referenced blob is never a candidate, however old: only keys no row names are.
 */
@Injectable()
export class BlobSweeper {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly storage: FileStorage,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  /** Every configured store that can be listed. */
  async sweep(opts: { remove: boolean; graceHours?: number }): Promise<LeftoverReport> {
    const report: LeftoverReport = {};
    for (const kind of ['local', 'object'] as const) {
      const store = this.storage.storeIfConfigured(kind);
      if (store && (isListable(store) || hasUnfinishedWrites(store))) report[kind] = await this.sweepStore(kind, opts);
    }
    return report;
  }

  async sweepStore(kind: BlobStoreKind, opts: { remove: boolean; graceHours?: number }): Promise<StoreLeftovers> {
    const store = this.storage.blobStore(kind);
    const cutoff = new Date(Date.now() - (opts.graceHours ?? this.config.packages.blob_grace_period_hours) * HOUR_MS);
    const result: StoreLeftovers = { unreferenced: none(), unfinished: none() };
    if (hasUnfinishedWrites(store)) {
      for await (const w of store.listUnfinished()) {
        const stale = w.lastModified < cutoff;
        count(result.unfinished, w.size, stale, opts.remove && stale && (await store.removeUnfinished(w.id, cutoff)));
      }
    }
    if (isListable(store)) {
      for await (const page of this.unreferencedPages(kind, store)) {
        for (const o of page) {
          const stale = o.lastModified < cutoff;
          count(result.unreferenced, o.size, stale, opts.remove && stale && (await this.removeUnreferenced(kind, store, o.key, cutoff)));
        }
      }
    }
    return result;
  }

  /** Keys in a listable store that no blob row refers to, stored before `olderThan`. */
  async unreferencedKeys(kind: BlobStoreKind, olderThan = new Date()): Promise<string[]> {
    const store = this.storage.blobStore(kind);
    if (!isListable(store)) return [];
    const keys: string[] = [];
    for await (const page of this.unreferencedPages(kind, store))
      keys.push(...page.filter((o) => o.lastModified < olderThan).map((o) => o.key));
    return keys;
  }

  private async *unreferencedPages(kind: BlobStoreKind, store: ListableBlobStore): AsyncIterable<ListedKey[]> {
    let page: ListedKey[] = [];
    const unknown = async () => {
      const known: { storage_key: string }[] = await this.ds.query(
        'SELECT storage_key FROM blobs WHERE store = $1 AND storage_key = ANY($2)',
        [kind, page.map((o) => o.key)],
      );
      const names = new Set(known.map((k) => k.storage_key));
      const out = page.filter((o) => !names.has(o.key));
      page = [];
      return out;
    };
    for await (const o of store.list()) {
      page.push(o);
      if (page.length >= PAGE) yield await unknown();
    }
    if (page.length) yield await unknown();
  }

  private async removeUnreferenced(kind: BlobStoreKind, store: BlobStore, key: string, cutoff: Date): Promise<boolean> {
    const [ref] = await this.ds.query('SELECT 1 FROM blobs WHERE store = $1 AND storage_key = $2', [kind, key]);
    if (ref) return false;
    // Read after the row check: a copy restamped since the listing is young again.
    const now = await store.stat(key);
    if (!now || (now.lastModified && now.lastModified >= cutoff)) return false;
    await store.delete(key);
    return true;
  }
}
