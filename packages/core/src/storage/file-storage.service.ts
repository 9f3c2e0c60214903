import { basename } from 'node:path';
import { pipeline, Readable } from 'node:stream';

import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';

import { Blob } from '../blobs/blob.entity';
import { BACKGROUND_MOVE_OPTIONS, backgroundMoveJobId, MOVE_BLOB_JOB } from '../blobs/blob-move-job';
import { StowageConfig } from '../config';
import { gitlabMessage, HttpError, httpErrors } from '../http/http-error';
import { isClientAbort } from '../http/stream-body.decorator';
import { JobQueue } from '../jobs/job-queue';
import { etagMatches } from '../rendering/etag';
import { BlobNotFoundError, type BlobStore, type BlobStoreKind, BlobStoreUnavailableError, type ByteRange } from './blob-store';
import { contentDisposition } from './content-disposition';
import { sendFileBody } from './file-body';
import { type Digests, HashingMeter } from './hashing-meter';
import { parseRange } from './http-range';
import { SmallFileCache } from './small-file-cache';
import { newStorageKey } from './storage-key';

export const BLOB_STORES = Symbol('BLOB_STORES');
export type BlobStores = ReadonlyMap<BlobStoreKind, BlobStore>;

/** An upload that is now a blob row; hand it to PackageService to attach it to a package. */
export interface StoredBlob extends Digests {
  /** This upload created the blob (rather than finding the same bytes stored already). */
  created: boolean;
  /** The row's orphan stamp as this upload left it; release() only removes a blob it still owns. */
  orphanedAt: Date;
  /** The same stamp to the microsecond, as Postgres prints it (a JS Date keeps only milliseconds). */
  orphanedStamp: string;
  /** Where the blob's bytes are: this upload's copy, or the copy stored before it. */
  store: BlobStoreKind;
  storage_key: string;
}

/** What a download needs to know about a package file. */
export interface DownloadableFile {
  file_sha256: string;
  file_name: string;
  created_at: Date;
  /** Its blob row, when the caller read it with the file (saves send() a query). */
  blob?: Pick<Blob, 'sha256' | 'size' | 'store' | 'storage_key'>;
}

export interface SendOptions {
  /** Name offered to the client; defaults to the last segment of the file name. */
  fileName?: string;
  contentType?: string;
  disposition?: 'attachment' | 'inline';
  headers?: Record<string, string>;
  /**
   * false: never answer with a redirect to the object store, stream the bytes through the
   * server even without proxy_download (for clients that do not follow redirects). Default true.
   */
  redirect?: boolean;
}

/**
 * Every upload and download of package bytes goes through here. Uploads stream once through
 * a hashing meter into the configured store and become a blob row keyed by sha256, so equal
 * bytes are kept once; downloads stream back with HTTP caching and range semantics.
 */
@Injectable()
export class FileStorage {
  private readonly logger = new Logger('storage');
  private readonly smallFiles: SmallFileCache;

  constructor(
    @Inject(BLOB_STORES) private readonly stores: BlobStores,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    /** Background uploads to object storage are queued here (absent in unit tests). */
    @Optional() private readonly jobs?: JobQueue,
  ) {
    this.smallFiles = new SmallFileCache(config.packages.small_file_cache_size);
  }

  /** The store of this kind, or null when none is configured. */
  storeIfConfigured(kind: BlobStoreKind): BlobStore | null {
    return this.stores.get(kind) ?? null;
  }

  /** The store new uploads are written to. */
  uploadStore(): BlobStore {
    const os = this.config.packages.object_store;
    return os.enabled && os.direct_upload ? this.blobStore('object') : this.blobStore('local');
  }

  blobStore(kind: BlobStoreKind): BlobStore {
    const store = this.stores.get(kind);
    if (!store) throw new Error(`no ${kind} blob store is configured`);
    return store;
  }

  /**
   * Streams `body` into storage. Rejects with SizeLimitExceededError past `maxSize`, with a
   * 400 if the client goes away, or with the stream's own error; either way nothing is left
   * behind: `body` must error or close when its source does (join streams with pipeline()).
   */
  async store(body: Readable, opts: { maxSize?: number; size?: number } = {}): Promise<StoredBlob> {
    const store = this.uploadStore();
    const key = newStorageKey();
    const meter = new HashingMeter(opts.maxSize);
    const source = pipeline(body, meter, () => undefined);
    try {
      await store.put(key, source, { size: opts.size });
    } catch (err) {
      meter.destroy();
      await store.delete(key).catch(() => undefined);
      if (err instanceof BlobStoreUnavailableError) throw new HttpError(503, gitlabMessage(503, err.message));
      // A client that went away is no server error (nobody reads this answer; the log does).
      if (isClientAbort(err) && body.destroyed && !body.readableEnded) {
        throw httpErrors.badRequest('the request body is incomplete: the client closed the connection');
      }
      throw err;
    }
    const d = meter.digests();
    // Equal bytes stored already: keep the existing blob and drop this copy. Refreshing the
    // orphan stamp keeps the collector off the blob until this upload's file row exists.
    const [row] = await this.ds.query(
      `INSERT INTO blobs (sha256, size, md5, sha1, sha512, store, storage_key, orphaned_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (sha256) DO UPDATE SET orphaned_at = now()
       RETURNING store, storage_key, orphaned_at, orphaned_at::text AS orphaned_stamp, (xmax = 0) AS created`,
      [d.sha256, d.size, d.md5, d.sha1, d.sha512, store.kind, key],
    );
    if (row.storage_key !== key)
      await store.delete(key).catch((err) => this.logger.warn({ err, key }, 'could not remove a duplicate copy'));
    else if (store.kind === 'local') await this.queueBackgroundUpload(d.sha256, key);
    return {
      ...d,
      created: Boolean(row.created),
      orphanedAt: row.orphaned_at,
      orphanedStamp: row.orphaned_stamp,
      store: row.store,
      storage_key: row.storage_key,
    };
  }

  /**
   * Undoes `put` after the package write that was to use the blob failed: removes the blob
   * if this upload created it and nothing else has claimed it since.
   */
  async release(blob: StoredBlob): Promise<void> {
    if (!blob.created) return;
    const result: unknown[] = await this.ds.query(
      `DELETE FROM blobs b WHERE b.sha256 = $1 AND b.orphaned_at = $2::timestamptz
         AND NOT EXISTS (SELECT 1 FROM package_files f WHERE f.file_sha256 = b.sha256)
             AND NOT EXISTS (SELECT 1 FROM remote_files r WHERE r.file_sha256 = b.sha256)
       RETURNING store, storage_key`,
      // Compared to the microsecond: the Date would never equal the stored stamp, and the blob would leak.
      [blob.sha256, blob.orphanedStamp],
    );
    // TypeORM's postgres driver answers DELETE … RETURNING with [rows, affectedCount].
    const rows = (Array.isArray(result[0]) ? result[0] : result) as { store: BlobStoreKind; storage_key: string }[];
    for (const r of rows)
      await this.blobStore(r.store)
        .delete(r.storage_key)
        .catch(() => undefined);
  }

  /** object_store.background_upload: a job moves each new local blob to object storage. */
  private async queueBackgroundUpload(sha256: string, key: string): Promise<void> {
    const os = this.config.packages.object_store;
    if (!os.enabled || os.direct_upload || !os.background_upload || !this.jobs) return;
    // A queue outage must not fail the upload: the blob is stored, and `packages migrate` moves it later.
    await this.jobs
      .add(MOVE_BLOB_JOB, { sha256, to: 'object' }, { jobId: backgroundMoveJobId(sha256, key), ...BACKGROUND_MOVE_OPTIONS })
      .catch((err) => this.logger.warn({ err, sha256 }, 'could not queue the background upload'));
  }

  /**
   * Opens a blob's bytes from the store its row names. A move may flip the row and remove
   * the old copy between the row read and the open: then the row is read again, once.
   */
  private async openRow<T>(
    blob: Pick<Blob, 'sha256' | 'store' | 'storage_key'>,
    open: (store: BlobStore, key: string) => Promise<T>,
  ): Promise<T> {
    try {
      return await open(this.blobStore(blob.store as BlobStoreKind), blob.storage_key);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err;
      const fresh = await this.blob(blob.sha256);
      if (!fresh || (fresh.store === blob.store && fresh.storage_key === blob.storage_key)) throw err;
      return open(this.blobStore(fresh.store as BlobStoreKind), fresh.storage_key);
    }
  }

  async blob(sha256: string): Promise<Blob | null> {
    return this.ds.getRepository(Blob).findOneBy({ sha256 });
  }

  /** Opens stored bytes (or a range of them) for a format that reads its own files. */
  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    const blob = await this.blob(sha256);
    if (!blob) throw new Error(`blob ${sha256} does not exist`);
    return this.openRow(blob, (store, key) => store.get(key, range));
  }

  /** A small file's bytes, from memory or read whole into it; null for a larger file (or bytes that are not the blob's). */
  private async smallFile(blob: Pick<Blob, 'sha256' | 'size' | 'store' | 'storage_key'>): Promise<Buffer | null> {
    if (!this.smallFiles.holds(blob.size)) return null;
    const hit = this.smallFiles.get(blob.sha256);
    if (hit) return hit;
    // Filled from local files only: a read from object storage has no deadline of its own, and
    // would hold the request (and not end with the client) while the bytes are gathered.
    if (blob.store !== 'local') return null;
    const bytes = await this.smallFiles.fill(blob.sha256, blob.size, await this.openRow(blob, (s, key) => s.get(key)));
    if (!bytes) this.logger.warn({ sha256: blob.sha256, key: blob.storage_key }, 'a stored file is not the bytes of its digest');
    return bytes;
  }

  /**
   * local_download_offload: the headers set, an empty body, and the proxy's header naming the
   * blob's file; the proxy applies the request's Range to the file itself (so this answer is a
   * 200 either way). A file a move has just taken away is looked up again, as openRow does.
   */
  private async offload(
    request: FastifyRequest,
    reply: FastifyReply,
    file: DownloadableFile,
    blob: Pick<Blob, 'sha256' | 'size' | 'store' | 'storage_key'>,
    opts: SendOptions,
  ): Promise<FastifyReply> {
    if (!(await this.blobStore('local').stat(blob.storage_key))) {
      const fresh = await this.blob(blob.sha256);
      if (!fresh || (fresh.store === blob.store && fresh.storage_key === blob.storage_key)) throw new BlobNotFoundError(blob.storage_key);
      return this.send(request, reply, { ...file, blob: fresh }, opts);
    }
    const { header, prefix } = this.config.packages.local_download_offload;
    // The proxy says Accept-Ranges itself when it serves the file (twice, with this one).
    reply.removeHeader('accept-ranges');
    return reply.status(200).header(header, `${prefix}${blob.storage_key}`).header('content-length', 0).send();
  }

  /**
   * Answers a GET or HEAD for a file: ETag (its sha256), Last-Modified, Range (206/416),
   * If-None-Match (304), Content-Disposition, and either the bytes or, for object storage
   * without proxy_download, a redirect to a short-lived presigned URL, or for a local file with
   * local_download_offload, the proxy's header naming it.
   */
  async send(request: FastifyRequest, reply: FastifyReply, file: DownloadableFile, opts: SendOptions = {}): Promise<FastifyReply> {
    const blob = file.blob ?? (await this.blob(file.file_sha256));
    if (!blob) throw httpErrors.notFound('File');
    const store = this.blobStore(blob.store as BlobStoreKind);
    const fileName = opts.fileName ?? basename(file.file_name);
    const contentType = opts.contentType ?? 'application/octet-stream';
    const etag = `"${blob.sha256}"`;
    reply
      .header('etag', etag)
      .header('last-modified', file.created_at.toUTCString())
      .header('accept-ranges', 'bytes')
      .header('content-type', contentType)
      .header('content-disposition', contentDisposition(fileName, opts.disposition));
    for (const [k, v] of Object.entries(opts.headers ?? {})) reply.header(k, v);

    if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();

    let range = parseRange(request.headers.range, blob.size);
    const ifRange = request.headers['if-range'];
    if (range.kind !== 'full' && ifRange && ifRange !== etag) range = { kind: 'full' };
    // Answered here even for object storage: the size is known, and S3 answers 416 without
    // the Content-Range a client needs to learn it.
    if (range.kind === 'unsatisfiable') {
      reply.removeHeader('content-disposition');
      return reply.status(416).header('content-range', `bytes */${blob.size}`).header('content-length', 0).send();
    }

    const offload = this.config.packages.local_download_offload;
    if (offload.enabled && request.method === 'GET' && blob.store === 'local') return this.offload(request, reply, file, blob, opts);

    // HEAD reads no bytes, so it is answered here too: a presigned URL is signed for GET, and a
    // client sending HEAD to it (curl -I -L) would get 403. A GET (with its Range) goes to S3.
    if (
      request.method !== 'HEAD' &&
      blob.store === 'object' &&
      opts.redirect !== false &&
      !this.config.packages.object_store.proxy_download &&
      store.presignedGetUrl
    ) {
      const url = await store.presignedGetUrl(blob.storage_key, {
        expiresInSeconds: 300,
        fileName,
        contentType,
        disposition: contentDisposition(fileName, opts.disposition),
      });
      return reply.status(302).header('location', url).header('content-length', 0).send();
    }
    const r = range.kind === 'partial' ? range.range : undefined;
    reply.header('content-length', r ? r.end - r.start + 1 : blob.size);
    if (r) reply.status(206).header('content-range', `bytes ${r.start}-${r.end}/${blob.size}`);
    // Fastify's HEAD route replaces Content-Length with 0 when the payload is empty; an empty
    // stream keeps the length set above (and no bytes are read from the store).
    if (request.method === 'HEAD') return reply.send(Readable.from([]));
    const small = await this.smallFile(blob);
    if (small) return reply.send(r ? small.subarray(r.start, r.end + 1) : small);
    const body = await this.openRow(blob, async (s, key) => (s.openFile ? s.openFile(key) : s.get(key, r)));
    if (body instanceof Readable) return reply.send(body);
    return sendFileBody(reply, body, r ?? { start: 0, end: blob.size - 1 });
  }
}
