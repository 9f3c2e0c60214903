import { PassThrough, pipeline, Readable } from 'node:stream';

import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BlobNotFoundError,
  type BlobStore,
  BlobStoreUnavailableError,
  type ByteRange,
  contentDisposition,
  STORAGE_KEY,
} from '@stowage/core';

import type { S3StorageConfig } from './s3-storage.config';

export interface S3BlobStoreOptions {
  /** `remote_directory`: a bucket name, optionally followed by `/prefix`. */
  remoteDirectory: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** true: the SDK's default credential chain (env, profile, instance/task role) even if keys are set. */
  useIamProfile?: boolean;
  /** An S3-compatible service (MinIO, s3rver, Ceph…); AWS when absent. */
  endpoint?: string;
  pathStyle?: boolean;
  /** Multipart part size in bytes (default 8 MiB) and parts in flight (default 4). */
  partSize?: number;
  queueSize?: number;
  /** Keys per listing request (default 1000, S3's maximum). */
  listPageSize?: number;
}

const MiB = 1024 * 1024;

/** The store's options from its `packages.object_store` keys, as GitLab spells them. */
export function s3OptionsFromConfig(settings: S3StorageConfig): S3BlobStoreOptions {
  const c = settings.connection;
  const endpoint = c.endpoint ?? (c.host ? `https://${c.host}` : undefined);
  return {
    remoteDirectory: settings.remote_directory,
    region: c.region,
    accessKeyId: c.aws_access_key_id,
    secretAccessKey: c.aws_secret_access_key,
    useIamProfile: c.use_iam_profile,
    endpoint,
    pathStyle: c.path_style,
  };
}

/** Errors that mean the service could not be reached (as opposed to an answer about the key). */
function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; cause?: unknown };
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE'];
  if (e?.code && codes.includes(e.code)) return true;
  // The SDK wraps socket errors ("AWS SDK error wrapper for Error: connect ECONNREFUSED …").
  const message = (err as Error)?.message ?? '';
  if (codes.some((c) => message.includes(c)) || /socket hang up|timed? ?out/i.test(message)) return true;
  if (e?.name === 'TimeoutError' || e?.name === 'RequestTimeout') return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e?.cause && e.cause !== err) return isUnreachable(e.cause);
  // lib-storage wraps part failures in AggregateError-like errors.
  const errors = (err as { errors?: unknown[] })?.errors;
  return Array.isArray(errors) && errors.some(isUnreachable);
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Blobs as objects in an S3-compatible bucket. Uploads stream through lib-storage's
 * multipart Upload (any length, bounded memory: partSize × queueSize); an object appears
 * only when the upload completes, and a failed upload is aborted. Checksums are computed
 * only where S3 requires them: with the SDK's default, streamed PutObject bodies are sent
 * aws-chunked with a trailer, which S3-compatible servers (s3rver) store as content.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 'object' as const;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;

  constructor(opts: S3BlobStoreOptions) {
    const [bucket, ...rest] = opts.remoteDirectory.split('/').filter(Boolean);
    if (!bucket) throw new Error('packages.object_store.remote_directory must name a bucket');
    this.bucket = bucket;
    this.prefix = rest.length ? `${rest.join('/')}/` : '';
    this.partSize = Math.max(5 * MiB, opts.partSize ?? 8 * MiB);
    this.queueSize = opts.queueSize ?? 4;
    this.listPageSize = opts.listPageSize ?? 1000;
    const config: S3ClientConfig = {
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.pathStyle ?? false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (!opts.useIamProfile && opts.accessKeyId && opts.secretAccessKey) {
      config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  private objectKey(key: string): string {
    if (!STORAGE_KEY.test(key)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return this.prefix + key;
  }

  private wrap(err: unknown): never {
    if (err instanceof BlobNotFoundError || err instanceof BlobStoreUnavailableError) throw err;
    if (isUnreachable(err)) throw new BlobStoreUnavailableError('object', err);
    throw err;
  }

  async put(key: string, input: Readable): Promise<void> {
    const Key = this.objectKey(key);
    // A plain stream: lib-storage reads a `size` property (HashingMeter has one) as the body's length.
    const body = pipeline(input, new PassThrough({ highWaterMark: 1 << 20 }), () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: body, ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // Aborted below instead, so that a failing abort (s3rver has none) cannot hide the cause.
      leavePartsOnError: true,
    });
    // A source that fails (size limit, client gone) must stop the upload, not leave it hanging.
    const onError = () => void upload.abort().catch(() => undefined);
    body.once('error', onError);
    try {
      await upload.done();
    } catch (err) {
      await upload.abort().catch(() => undefined);
      const sourceError = input.errored ?? body.errored;
      if (sourceError) throw sourceError;
      this.wrap(err);
    } finally {
      body.off('error', onError);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      const body = res.Body;
      if (!body) throw new Error(`object ${key} has no body`);
      return body instanceof Readable ? body : Readable.fromWeb(body as never);
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      this.wrap(err);
    }
  }

  async stat(key: string): Promise<{ size: number; lastModified?: Date } | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: Number(res.ContentLength ?? 0), lastModified: res.LastModified };
    } catch (err) {
      if (isNotFound(err)) return null;
      this.wrap(err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (isNotFound(err)) return;
      this.wrap(err);
    }
  }

  async presignedGetUrl(
    key: string,
    opts: { expiresInSeconds: number; fileName: string; contentType: string; disposition?: string },
  ): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ResponseContentDisposition: opts.disposition ?? contentDisposition(opts.fileName),
      ResponseContentType: opts.contentType,
    });
    return getSignedUrl(this.client as never, command as never, { expiresIn: opts.expiresInSeconds });
  }

  /**
   * Restamps an object's LastModified (an in-place copy), so that a sweep's grace period
   * counts from now: used when a moved-away copy must outlive presigned URLs handed out for it.
   */
  async touch(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key,
          CopySource: `${this.bucket}/${Key}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      this.wrap(err);
    }
  }

  /** Every stored key under this store's prefix, with its size and time (for sweeps and verify). */
  async *list(): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    // ListObjects (v1) paged by Marker (the last key seen): supported by S3 and every
    // S3-compatible server. s3rver's ListObjectsV2 answers 500 for any truncated listing (its
    // continuation tokens use DES, which OpenSSL 3 no longer offers).
    let marker: string | undefined;
    for (;;) {
      let res;
      try {
        res = await this.client.send(
          new ListObjectsCommand({ Bucket: this.bucket, Prefix: this.prefix || undefined, Marker: marker, MaxKeys: this.listPageSize }),
        );
      } catch (err) {
        this.wrap(err);
      }
      const contents = res.Contents ?? [];
      for (const o of contents) {
        const key = (o.Key ?? '').slice(this.prefix.length);
        if (STORAGE_KEY.test(key)) yield { key, size: Number(o.Size ?? 0), lastModified: o.LastModified ?? new Date(0) };
      }
      if (!res.IsTruncated || !contents.length) return;
      marker = contents[contents.length - 1].Key;
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (isNotFound(err)) throw new Error(`bucket ${this.bucket} does not exist`);
      if (isUnreachable(err)) throw new Error(`bucket ${this.bucket} is unreachable (${(err as Error).message || (err as Error).name})`);
      throw err;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
