import { PassThrough, type Readable, type Writable } from 'node:stream';

import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';

import type { PackageScope } from '../auth/package-scope';
import { StowageConfig } from '../config';
import { preparedRows } from '../database/prepared';
import { PackageService } from '../packages/package.service';
import type { BlobStoreKind } from '../storage/blob-store';
import { contentDisposition } from '../storage/content-disposition';
import { type DownloadableFile, FileStorage, type SendOptions, type StoredBlob } from '../storage/file-storage.service';
import { SizeLimitExceededError } from '../storage/hashing-meter';
import { HoldLast } from './hold-last';
import { SingleFlight } from './single-flight';
import { discard, UpstreamError, upstreamFailure, UpstreamHttp } from './upstream-http';
import type { Upstream } from './upstreams';

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** A file an upstream's metadata names, with the digest it declares for it. */
export interface RemoteFile {
  upstream: Upstream;
  /** Its address at the upstream (from the config and the upstream's own metadata, never from a request). */
  url: string;
  digest: { algorithm: DigestAlgorithm; hex: string };
  /** The package it belongs to, by the format's normalized name, and its version where known: for listings. */
  name: string;
  version?: string;
  fileName: string;
  /** The format's max_file_size (0: none). */
  maxSize: number;
  /** The caller has just found no cached copy (`sendCached`): the lookup before the fetch is skipped. */
  lookedUp?: boolean;
}

interface Tap {
  stream: Readable;
  length?: number;
}

interface CachedRow {
  id: string;
  file_sha256: string;
  file_name: string;
  created_at: Date;
  used_recently: boolean;
}

/**
 * The first client of a large file is fed by the fetch itself, so one that stopped reading would
 * hold the fetch, and every client waiting for it, for as long as it kept its connection open
 * (a paused body is no idle upstream to undici). After `ms` without taking a byte it is let go
 * (its answer is cut short) and the fetch goes on at the upstream's pace.
 */
function letGoWhenStalled(source: Readable, client: Writable, ms: number): void {
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  source.on('data', () => {
    if (timer || !client.writableNeedDrain) return;
    timer = setTimeout(() => {
      source.unpipe(client);
      client.destroy(new Error('the client took no bytes within the upstream timeout'));
    }, ms);
  });
  client.on('drain', stop);
  client.once('close', stop);
  source.once('close', stop);
}

/**
 * Files fetched from upstreams: each is fetched once (concurrent misses share the fetch),
 * stored as a blob like any package file, and counts as cached only once its digest matches
 * what the upstream declared; a mismatch is a 502 and the bytes are released. Small files are
 * verified before the answer starts; larger ones stream to the first client as they arrive,
 * their last bytes held until the digest is checked (HoldLast).
 */
@Injectable()
export class RemoteFiles {
  private readonly logger = new Logger('remote');
  private readonly flights = new SingleFlight<DownloadableFile>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly storage: FileStorage,
    private readonly packages: PackageService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  /** The stored copy of an upstream file, if it was fetched and verified before. */
  async cached(format: string, url: string): Promise<DownloadableFile | null> {
    const [row] = await preparedRows<CachedRow>(
      this.ds,
      'remote-file-by-url',
      `SELECT id, file_sha256, file_name, created_at, last_used_at > now() - interval '1 minute' AS used_recently
       FROM remote_files WHERE package_type = $1 AND url = $2`,
      [format, url],
    );
    return row ? this.used(row) : null;
  }

  /**
   * Answers from the cache a file recorded under this package, version and file name, without
   * reading the upstream's metadata: 'sent' when it answered, 'absent' when none is cached (then
   * `send()` it). For formats whose file names are fixed per version (an npm tarball), so a warm
   * download is one lookup. With `unlessHeldIn`, the name goes upstream only when nobody in that
   * scope holds it (`PackageService.nameHeld`), checked in the same query: 'held' when it is.
   * (Not the reply: a FastifyReply is thenable, and awaiting it waits for the response to
   * finish and gives undefined.)
   */
  async sendCached(
    request: FastifyRequest,
    reply: FastifyReply,
    file: { format: string; name: string; version: string; fileName: string },
    opts: SendOptions = {},
    unlessHeldIn?: PackageScope,
  ): Promise<'sent' | 'absent' | 'held'> {
    const lookup = `SELECT r.id, r.file_sha256, r.file_name, r.created_at, r.last_used_at > now() - interval '1 minute' AS used_recently,
              b.size, b.store, b.storage_key
       FROM remote_files r JOIN blobs b ON b.sha256 = r.file_sha256
       WHERE r.package_type = $1 AND r.package_name = $2 AND r.version = $3 AND r.file_name = $4
       ORDER BY r.id DESC LIMIT 1`;
    const params = [file.format, file.name, file.version, file.fileName];
    const query = unlessHeldIn ? this.packages.unlessHeld(unlessHeldIn, file.format, file.name, lookup, params) : { sql: lookup, params };
    const [row] = await preparedRows<CachedRow & { held?: boolean; size: string; store: BlobStoreKind; storage_key: string }>(
      this.ds,
      unlessHeldIn ? `remote-file-by-version-unless-held-${unlessHeldIn.kind}` : 'remote-file-by-version',
      query.sql,
      query.params,
    );
    if (row?.held) return 'held';
    if (!row || row.id === null) return 'absent';
    const blob = { sha256: row.file_sha256, size: Number(row.size), store: row.store, storage_key: row.storage_key };
    await this.storage.send(request, reply, { ...this.used(row), blob }, opts);
    return 'sent';
  }

  private used(row: CachedRow): DownloadableFile {
    if (!row.used_recently) {
      this.ds
        .query('UPDATE remote_files SET last_used_at = now() WHERE id = $1', [row.id])
        .catch((err) => this.logger.warn({ err }, 'could not record the use of a cached file'));
    }
    return { file_sha256: row.file_sha256, file_name: row.file_name, created_at: new Date(row.created_at) };
  }

  /** Answers a download of an upstream file: from the cache, or fetched (once) now. */
  async send(request: FastifyRequest, reply: FastifyReply, file: RemoteFile, opts: SendOptions = {}): Promise<FastifyReply> {
    const hit = file.lookedUp ? null : await this.cached(file.upstream.format, file.url);
    if (hit) return this.storage.send(request, reply, hit, opts);
    const key = `${file.upstream.format} ${file.url}`;
    const running = this.flights.get(key);
    if (running) return this.storage.send(request, reply, await running, opts);

    let tap!: (t: Tap) => void;
    const tapped = new Promise<Tap>((resolve) => (tap = resolve));
    // A fetch that ended between our lookup and now has recorded its file: look again inside the flight.
    const done = this.flights.run(key, async () => (await this.cached(file.upstream.format, file.url)) ?? this.fetch(file, tap));
    const first = await Promise.race([tapped, done.then(() => null)]);
    if (!first) return this.storage.send(request, reply, await done, opts);
    done.catch((err: Error) =>
      this.logger.warn(
        { format: file.upstream.format, url: file.url, problem: err.message },
        'an upstream file streamed to a client failed',
      ),
    );
    reply
      .header('content-type', opts.contentType ?? 'application/octet-stream')
      .header('content-disposition', contentDisposition(opts.fileName ?? file.fileName, opts.disposition));
    for (const [k, v] of Object.entries(opts.headers ?? {})) reply.header(k, v);
    if (first.length !== undefined) reply.header('content-length', first.length);
    return reply.send(first.stream);
  }

  /** Fetches a file into the cache; a large one is also handed to `tap` to stream to the first client. */
  private async fetch(file: RemoteFile, tap: (t: Tap) => void): Promise<DownloadableFile> {
    const res = await file.upstream.http.get(file.url);
    if (res.status !== 200) throw UpstreamHttp.unexpected(res);
    const header = res.headers['content-length'];
    const declared = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
    const limit = file.maxSize || Infinity;
    if (declared !== undefined && declared > limit) {
      discard(res.body);
      throw new UpstreamError('too-large', `${file.fileName} is larger than max_file_size (${limit} bytes)`);
    }
    if (declared !== undefined && declared < this.config.packages.remote_cache.stream_threshold) return this.keep(file, res.body);

    const toStore = new PassThrough();
    let verdict!: { resolve: () => void; reject: (err: Error) => void };
    const toClient = new HoldLast(new Promise<void>((resolve, reject) => (verdict = { resolve, reject })));
    res.body.on('error', (err) => toStore.destroy(upstreamFailure(err)));
    res.body.pipe(toStore);
    res.body.pipe(toClient);
    letGoWhenStalled(res.body, toClient, file.upstream.config.timeout * 1000);
    tap({ stream: toClient, length: declared });
    try {
      const kept = await this.keep(file, toStore);
      verdict.resolve();
      return kept;
    } catch (err) {
      verdict.reject(err as Error);
      toClient.destroy(err as Error);
      // The store gave up before the body ended (too large, a store failure): nothing reads it any more.
      discard(res.body);
      throw err;
    }
  }

  /** Stores an upstream body, checks its digest and records it; on any failure nothing is kept. */
  private async keep(file: RemoteFile, body: Readable): Promise<DownloadableFile> {
    let blob: StoredBlob;
    try {
      blob = await this.storage.store(body, { maxSize: file.maxSize || undefined });
    } catch (err) {
      if (err instanceof SizeLimitExceededError)
        throw new UpstreamError('too-large', `${file.fileName} is larger than max_file_size (${err.limit} bytes)`);
      if (err instanceof UpstreamError) throw err;
      throw upstreamFailure(err);
    }
    const { algorithm, hex } = file.digest;
    if (blob[algorithm] !== hex.toLowerCase()) {
      await this.storage.release(blob);
      this.logger.warn(
        { format: file.upstream.format, url: file.url, expected: hex, got: blob[algorithm] },
        'upstream file failed its digest',
      );
      throw new UpstreamError('digest', `${file.fileName} does not match the ${algorithm} the upstream declared for it`);
    }
    const [row] = await preparedRows<{ created_at: Date }>(
      this.ds,
      'remote-file-keep',
      `WITH f AS (
         INSERT INTO remote_files (package_type, package_name, version, file_name, url, file_sha256, size)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (package_type, url) DO UPDATE SET file_sha256 = EXCLUDED.file_sha256, size = EXCLUDED.size,
           created_at = now(), last_used_at = now()
         RETURNING created_at
       ), claimed AS (UPDATE blobs SET orphaned_at = NULL WHERE sha256 = $6)
       SELECT created_at FROM f`,
      [file.upstream.format, file.name, file.version ?? null, file.fileName, file.url, blob.sha256, blob.size],
    );
    return {
      file_sha256: blob.sha256,
      file_name: file.fileName,
      created_at: new Date(row.created_at),
      blob: { sha256: blob.sha256, size: blob.size, store: blob.store, storage_key: blob.storage_key },
    };
  }
}
