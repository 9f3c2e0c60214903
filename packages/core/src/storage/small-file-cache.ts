import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

import { LRUCache } from 'lru-cache';

import { ownedBytes } from '../owned-bytes';

/** The largest file kept: above it, a download's cost is its bytes, not the opening of its file. */
export const SMALL_FILE_MAX_BYTES = 128 * 1024;
const ENTRY_OVERHEAD = 256;

/**
 * The bytes of small package files, kept in memory by sha256. Bytes never change under their
 * digest, so an entry is never stale and needs no invalidation, across servers or otherwise:
 * whether a file may be served, and which blob it is, is still read from the database on every
 * request; only the opening, reading and closing of the file (three thread-pool round trips, a
 * fifth of a 9 KB download's server CPU in its profile) is saved. Bytes are checked against the
 * digest before they are kept, so a damaged copy is never served from here.
 */
export class SmallFileCache {
  private readonly entries: LRUCache<string, Buffer> | undefined;

  constructor(maxBytes: number) {
    // Each entry costs about 200 bytes besides its bytes (key, Buffer, list node): counted, or a
    // bound met by many tiny files would hold many times its size.
    if (maxBytes > 0) this.entries = new LRUCache({ maxSize: maxBytes, sizeCalculation: (b) => b.length + ENTRY_OVERHEAD });
  }

  /** Whether a file of `size` bytes is kept here. */
  holds(size: number): boolean {
    return this.entries !== undefined && size <= SMALL_FILE_MAX_BYTES;
  }

  get(sha256: string): Buffer | undefined {
    return this.entries?.get(sha256);
  }

  /**
   * Reads `body` (the whole file, of `size` bytes) and keeps it if its digest is `sha256`;
   * returns the bytes, or null when they are not the blob's (the caller serves from the store).
   */
  async fill(sha256: string, size: number, body: Readable): Promise<Buffer | null> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > size) {
        body.destroy();
        return null;
      }
      chunks.push(chunk);
    }
    const bytes = ownedBytes(Buffer.concat(chunks, length));
    if (length !== size || createHash('sha256').update(bytes).digest('hex') !== sha256) return null;
    this.entries?.set(sha256, bytes);
    return bytes;
  }
}
