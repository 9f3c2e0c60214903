import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';

import { ownedBytes } from '@stowage/core';

const gzip = promisify(gzipCb);

export interface RenderedDocument {
  body: Buffer;
  etag: string;
  /** The same bytes gzipped once at render time, for clients that accept gzip (pip, uv). */
  gzip: Buffer;
}

/**
 * Rendered index pages by key (which includes the revision they were rendered at), least
 * recently used dropped first. A key never goes stale: a change makes a new key.
 */
export class RenderCache {
  private readonly entries = new Map<string, RenderedDocument>();

  constructor(private readonly maxEntries: number) {}

  async get(key: string, render: () => Promise<string>): Promise<RenderedDocument> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const body = ownedBytes(await render());
    // A 5,000-file page is 2 MB of HTML and ~10x less gzipped: writing it is most of a hit's cost.
    const zipped = ownedBytes(await gzip(body, { level: 6 }));
    const doc = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`, gzip: zipped };
    if (this.maxEntries > 0) {
      this.entries.set(key, doc);
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return doc;
  }
}
