import { LRUCache } from 'lru-cache';

/**
 * Download lookups (a package and its file by name, version and file name) kept in memory, on
 * the embedded database only. There this process is the only one that writes packages, and
 * every write goes through PackageService.write, which calls changed() once the transaction
 * has ended, before the writer's answer goes out (BlobMover too, once it has moved a blob): no request after a change reads an entry
 * from before it, and a lookup that began before a change is not kept (the generation moved
 * while it ran). With PostgreSQL, other servers write too, and a lookup is one prepared query.
 *
 * Why: on the embedded database every query runs on the server's one thread, and a small
 * file's download was a third of what it is with PostgreSQL, where the lookup runs in
 * another process.
 */
export class DownloadLookups {
  private generation = 0;
  private readonly entries: LRUCache<string, { value: unknown }> | undefined;

  /**
   * `maxBytes` bounds the keys and values' JSON together (a value holds a package's metadata,
   * up to a megabyte of a PyPI description): they are measured once, when kept. Disabled, get()
   * always loads.
   */
  constructor(opts: { enabled: boolean; maxBytes?: number }) {
    if (!opts.enabled) return;
    this.entries = new LRUCache({
      maxSize: opts.maxBytes ?? 16 * 1024 * 1024,
      sizeCalculation: (entry, key) => key.length + (JSON.stringify(entry.value)?.length ?? 0) + 256,
    });
  }

  /** The value kept for `key`, or `load()`'s, kept unless a change ended meanwhile. A key always names values of one type. */
  async get<V>(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.entries) return load();
    const hit = this.entries.get(key);
    if (hit) return hit.value as V;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) this.entries.set(key, { value });
    return value;
  }

  /**
   * Forgets everything: a write to packages or their files has ended (committed or not), or a
   * blob has moved to another store (a kept file names its blob's store and key).
   */
  changed(): void {
    if (!this.entries) return;
    this.generation++;
    this.entries.clear();
  }
}
