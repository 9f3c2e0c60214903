import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { PackageScope } from '../auth/package-scope';
import { preparedRows } from '../database/prepared';
import { PackageService } from '../packages/package.service';
import { SingleFlight } from './single-flight';
import { discard, UpstreamError, UpstreamHttp } from './upstream-http';
import type { Upstream } from './upstreams';

/** A metadata document of an upstream, as last fetched (or its absence, `found: false`). */
export interface RemoteDocument {
  id: number;
  /** Changes whenever the stored body or status changes: key rendered variants by `${id}.${revision}`. */
  revision: number;
  found: boolean;
  /** The upstream failed and this is the last copy it gave; send `STALE_WARNING`. */
  stale: boolean;
  contentType: string | null;
  /** When the upstream last gave this body. */
  fetchedAt: Date;
  /** The URL it was fetched from, to resolve relative links against. */
  url: string;
  body(): Promise<Buffer>;
}

export interface RemoteDocumentOptions {
  /** The format's normalized name of the package it belongs to, for listings and removal. */
  name: string;
  accept?: string;
  /** Bytes it may have, when its kind needs fewer than the upstream's max_metadata_size (a checksum file: one line). */
  maxSize?: number;
  /**
   * Throws when an upstream's 200 is not a document of its kind (an HTML login page, a
   * DOCTYPE): it is then not stored, the last good copy stays and is served stale, or the
   * client gets a 502 (UpstreamError 'invalid') when there is none.
   */
  check?: (body: Buffer) => void | Promise<void>;
}

/** RFC 9111's warning for a stored answer served because revalidation failed. */
export const STALE_WARNING = { warning: '111 stowage "Revalidation Failed"' };

interface Row {
  id: string;
  status: number;
  revision: number;
  content_type: string | null;
  etag: string | null;
  last_modified: string | null;
  fetched_at: Date;
  fresh: boolean;
}

async function checked(body: Buffer, check: RemoteDocumentOptions['check']): Promise<void> {
  try {
    await check?.(body);
  } catch (err) {
    throw err instanceof UpstreamError
      ? err
      : new UpstreamError('invalid', `answered a document that is not one (${(err as Error).message})`);
  }
}

/** A stored document's row by format ($1) and URL ($2), fresh when checked within the TTL ($3 seconds). */
const ROW_QUERY = `SELECT id, status, revision, content_type, etag, last_modified, fetched_at,
    checked_at > now() - make_interval(secs => $3) AS fresh
  FROM remote_documents WHERE package_type = $1 AND url = $2`;

/** After an upstream failed, stale copies are served without asking it again for this long. */
const RETRY_AFTER_FAILURE_MS = 10_000;

/**
 * Upstream metadata documents, kept in the database so every server shares them: served while
 * younger than the upstream's `metadata_ttl`, then revalidated with If-None-Match /
 * If-Modified-Since (a 304 only refreshes the clock), and served stale, with a warning header
 * and a log line, when the upstream fails. Concurrent refreshes of one document make one request.
 */
@Injectable()
export class RemoteDocuments {
  private readonly logger = new Logger('remote');
  private readonly flights = new SingleFlight<RemoteDocument>();
  private readonly failedAt = new Map<string, number>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly packages: PackageService,
  ) {}

  /** The document at `url` (an address on the upstream, never from a request), fetched or revalidated as needed. */
  async get(upstream: Upstream, url: string, opts: RemoteDocumentOptions): Promise<RemoteDocument> {
    const mark = this.flights.mark();
    return this.answer(upstream, url, await this.row(upstream, url), opts, mark);
  }

  /**
   * `get()` for a name that goes upstream only when nobody in `scope` holds it
   * (`PackageService.nameHeld`), checked in the query that reads the stored copy: null when
   * it is held. A fresh copy is then one round trip to the database.
   */
  async getUnlessHeld(upstream: Upstream, url: string, opts: RemoteDocumentOptions, scope: PackageScope): Promise<RemoteDocument | null> {
    const query = this.packages.unlessHeld(scope, upstream.format, opts.name, ROW_QUERY, [
      upstream.format,
      url,
      upstream.config.metadata_ttl,
    ]);
    const mark = this.flights.mark();
    const [row] = await preparedRows<Row & { held: boolean }>(
      this.ds,
      `remote-document-unless-held-${scope.kind}`,
      query.sql,
      query.params,
    );
    if (row.held) return null;
    return this.answer(upstream, url, row.id === null ? undefined : row, opts, mark);
  }

  /** `row`: as read after `mark` was taken. */
  private async answer(
    upstream: Upstream,
    url: string,
    row: Row | undefined,
    opts: RemoteDocumentOptions,
    mark: number,
  ): Promise<RemoteDocument> {
    if (row?.fresh) return this.document(row, url, false);
    const key = `${upstream.format} ${url}`;
    const failed = this.failedAt.get(key);
    if (row && failed !== undefined && Date.now() - failed < RETRY_AFTER_FAILURE_MS) return this.document(row, url, true);
    // A refresh in this process that ended between our read and now has saved the document: then read again inside the flight.
    return this.flights.run(key, async () => {
      const now = this.flights.settledSince(key, mark) ? await this.row(upstream, url) : row;
      return now?.fresh ? this.document(now, url, false) : this.refresh(upstream, url, now, opts);
    });
  }

  private async row(upstream: Upstream, url: string): Promise<Row | undefined> {
    const [row] = await preparedRows<Row>(this.ds, 'remote-document', ROW_QUERY, [upstream.format, url, upstream.config.metadata_ttl]);
    return row;
  }

  private async refresh(upstream: Upstream, url: string, row: Row | undefined, opts: RemoteDocumentOptions): Promise<RemoteDocument> {
    const key = `${upstream.format} ${url}`;
    const headers: Record<string, string> = {};
    if (opts.accept) headers.accept = opts.accept;
    if (row?.status === 200 && row.etag) headers['if-none-match'] = row.etag;
    if (row?.status === 200 && row.last_modified) headers['if-modified-since'] = row.last_modified;
    try {
      const res = await upstream.http.get(url, headers);
      let next: Row;
      let fetched: Buffer | undefined;
      if (res.status === 304 && row) {
        discard(res.body);
        // TypeORM's postgres driver answers UPDATE … RETURNING with [rows, affectedCount].
        const [touched]: [unknown[], number] = await this.ds.query(
          'UPDATE remote_documents SET checked_at = now() WHERE id = $1 RETURNING id',
          [row.id],
        );
        // Removed meanwhile (evicted, or by an admin): its body is gone, so fetch it whole.
        if (!touched.length) return this.refresh(upstream, url, undefined, opts);
        next = { ...row, fresh: true };
      } else if (res.status === 200) {
        fetched = await upstream.http.read(res.body, Math.min(opts.maxSize ?? Infinity, upstream.config.max_metadata_size));
        await checked(fetched, opts.check);
        next = await this.save(upstream, url, opts.name, 200, fetched, res.headers);
      } else if (res.status === 404 || res.status === 410) {
        discard(res.body);
        next = await this.save(upstream, url, opts.name, 404, null, {});
      } else {
        throw UpstreamHttp.unexpected(res);
      }
      this.failedAt.delete(key);
      return this.document(next, url, false, fetched);
    } catch (err) {
      if (!(err instanceof UpstreamError) || !row) throw err;
      if (this.failedAt.size >= 10_000) this.failedAt.clear();
      this.failedAt.set(key, Date.now());
      this.logger.warn({ format: upstream.format, url, problem: err.message }, 'upstream failed; serving its last copy of the document');
      return this.document(row, url, true);
    }
  }

  private async save(
    upstream: Upstream,
    url: string,
    name: string,
    status: number,
    body: Buffer | null,
    headers: Record<string, string | undefined>,
  ): Promise<Row> {
    const [row]: Row[] = await this.ds.query(
      `INSERT INTO remote_documents (package_type, package_name, url, status, body, content_type, etag, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (package_type, url) DO UPDATE SET
         status = EXCLUDED.status, body = EXCLUDED.body, content_type = EXCLUDED.content_type, etag = EXCLUDED.etag,
         last_modified = EXCLUDED.last_modified, fetched_at = now(), checked_at = now(),
         -- The same answer again (an upstream that ignored the validators) keeps what was rendered from it.
         revision = remote_documents.revision + CASE WHEN remote_documents.status = EXCLUDED.status
           AND remote_documents.content_type IS NOT DISTINCT FROM EXCLUDED.content_type
           AND remote_documents.body IS NOT DISTINCT FROM EXCLUDED.body THEN 0 ELSE 1 END
       RETURNING id, status, revision, content_type, etag, last_modified, fetched_at, true AS fresh`,
      [upstream.format, name, url, status, body, headers['content-type'] ?? null, headers.etag ?? null, headers['last-modified'] ?? null],
    );
    return row;
  }

  /** `fetched`: the body just read from the upstream, so a first render does not read it back from the database. */
  private document(row: Row, url: string, stale: boolean, fetched?: Buffer): RemoteDocument {
    return {
      id: Number(row.id),
      revision: Number(row.revision),
      found: row.status === 200,
      stale,
      contentType: row.content_type,
      fetchedAt: new Date(row.fetched_at),
      url,
      body: async () => {
        if (fetched) return fetched;
        const [r]: { body: Uint8Array | null }[] = await this.ds.query('SELECT body FROM remote_documents WHERE id = $1', [row.id]);
        const body = r?.body ?? Buffer.alloc(0);
        // node-postgres gives a Buffer, PGlite a plain Uint8Array (whose toString() is not the text).
        return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      },
    };
  }
}
