import { LRUCache } from 'lru-cache';

import { documentBytes, type RenderedDocument } from './rendered-document';

/** Bytes counted for an entry beyond its value and its key: the revision, the bookkeeping. */
const ENTRY_OVERHEAD = 128;
export const DEFAULT_RENDERED_CACHE_BYTES = 128 * 1024 ** 2;

interface Entry {
  revision: string;
  value: unknown;
  bytes: number;
}

export interface RenderedDocumentsOptions {
  /** Total bytes of the documents kept, the least recently used going first; 0 keeps none. Default 128 MiB. */
  maxBytes?: number;
}

function isRendered(value: unknown): value is RenderedDocument {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as RenderedDocument).body) && 'encoded' in value;
}

/**
 * The process's rendered documents (a packument, an index page, a maven-metadata.xml), one
 * entry per document key holding the value and the revision it was rendered at. A read
 * names the revision it just looked up (PackageService.revision / scopeRevision, read from
 * the database on every request): an entry of another revision is a miss and its re-render
 * replaces it, so no process serves a document after its revision moved, however many
 * servers share the database. Bounded by bytes, not entries; concurrent misses of one key
 * and revision share a single render, and a failed render is not kept.
 *
 * Keys are the caller's: begin them with the package type, and include everything besides
 * the revision that changes the bytes (variant, base URL, the projects read).
 */
export class RenderedDocuments {
  private readonly cache: LRUCache<string, Entry> | undefined;
  /** The most one document (its body and key) may hold: a quarter of the bound. */
  private readonly maxDocument: number = 0;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(options: RenderedDocumentsOptions = {}) {
    const maxSize = options.maxBytes ?? DEFAULT_RENDERED_CACHE_BYTES;
    if (maxSize <= 0) return;
    // One document may not push out more than a quarter of the others. The quarter is checked on
    // the body alone: its compressed variants, counted when made, must not evict the entry that
    // holds them (every br reader of a large document would re-render it), and a variant is never
    // much larger than its body, so an entry stays well under the whole bound.
    this.maxDocument = Math.max(1, Math.floor(maxSize / 4));
    this.cache = new LRUCache({ maxSize, sizeCalculation: (e) => e.bytes });
  }

  /**
   * The value of `key` at `revision`: cached, or rendered once by `render` (null, a document
   * that does not exist, is cached too). Values other than RenderedDocument need `sizeOf`, an
   * estimate of the bytes they hold.
   */
  async get<V>(key: string, revision: string | number, render: () => Promise<V>, sizeOf?: (value: V) => number): Promise<V> {
    const rev = String(revision);
    const hit = this.cache?.get(key);
    if (hit && hit.revision === rev) return hit.value as V;
    const flightKey = `${key}\u0000${rev}`;
    let flight = this.inFlight.get(flightKey) as Promise<V> | undefined;
    if (!flight) {
      flight = render()
        .then((value) => {
          this.remember(key, rev, value, sizeOf);
          return value;
        })
        .finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    return flight;
  }

  /** Bytes held now (for tests and metrics). */
  get size(): number {
    return this.cache?.calculatedSize ?? 0;
  }

  private remember<V>(key: string, revision: string, value: V, sizeOf?: (value: V) => number): void {
    const cache = this.cache;
    if (!cache) return;
    // The key counts too: it comes from the URL, and a miss (null) holds little else.
    const measure = (): number =>
      ENTRY_OVERHEAD + key.length + (isRendered(value) ? documentBytes(value) : value === null ? 0 : (sizeOf?.(value) ?? 0));
    const entry: Entry = { revision, value, bytes: measure() };
    if (entry.bytes - (isRendered(value) ? value.encodedBytes : 0) > this.maxDocument) {
      cache.delete(key);
      return;
    }
    cache.set(key, entry);
    if (isRendered(value)) {
      // A compressed variant made later adds to what the entry holds.
      value.resized = () => {
        if (cache.peek(key) !== entry) return;
        entry.bytes = measure();
        cache.set(key, entry);
      };
    }
  }
}
