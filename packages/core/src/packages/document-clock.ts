import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

interface ClockRow {
  etag: string;
  changed_at: Date | string;
}

/**
 * Last-Modified for rendered documents that no single row dates (a deleted version leaves
 * none; a project that becomes readable brings older rows): the time any server process
 * first served the current bytes of a document. It lives in the database, so every process
 * answers the same date for the same bytes, and it only moves forward, by at least a second
 * (HTTP dates have no finer grain) whenever the bytes change, so an If-Modified-Since taken
 * from other bytes never earns a 304.
 *
 * Callers who see different bytes under one document name (they may read different
 * projects) share its clock: alternating between them costs those clients a 200, never a
 * wrong 304. A clock per caller could not promise that.
 */
@Injectable()
export class DocumentClock {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * When `etag` became the bytes of `doc` (any string naming the document); null if another
   * process changed the document while this one asked (then send no Last-Modified).
   */
  async changedAt(doc: string, etag: string): Promise<Date | null> {
    const key = createHash('sha256').update(doc).digest('hex');
    const seen = await this.read(key);
    if (seen?.etag === etag) return new Date(seen.changed_at);
    const moved: ClockRow[] = await this.ds.query(
      `INSERT INTO document_clock AS c (doc, etag, changed_at) VALUES ($1, $2, date_trunc('second', now()))
       ON CONFLICT (doc) DO UPDATE SET etag = EXCLUDED.etag, changed_at = greatest(EXCLUDED.changed_at, c.changed_at + interval '1 second')
         WHERE c.etag <> EXCLUDED.etag
       RETURNING etag, changed_at`,
      [key, etag],
    );
    if (moved.length) return new Date(moved[0].changed_at);
    // Another process recorded these bytes between our read and write; or, rarely, other bytes since.
    const now = await this.read(key);
    return now?.etag === etag ? new Date(now.changed_at) : null;
  }

  private async read(key: string): Promise<ClockRow | undefined> {
    const [row]: ClockRow[] = await this.ds.query('SELECT etag, changed_at FROM document_clock WHERE doc = $1', [key]);
    return row;
  }
}
