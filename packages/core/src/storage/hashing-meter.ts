import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digests {
  size: number;
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
}

export class SizeLimitExceededError extends Error {
  constructor(readonly limit: number) {
    super(`body exceeds ${limit} bytes`);
    this.name = 'SizeLimitExceededError';
  }
}

/**
 * Passes bytes through unchanged while counting them and computing every digest a format
 * may need, so each upload is read exactly once. Fails as soon as `maxSize` is passed.
 */
export class HashingMeter extends Transform {
  private readonly hashes: Record<'md5' | 'sha1' | 'sha256' | 'sha512', Hash> = {
    md5: createHash('md5'),
    sha1: createHash('sha1'),
    sha256: createHash('sha256'),
    sha512: createHash('sha512'),
  };
  private size = 0;
  private result?: Digests;

  constructor(private readonly maxSize = Infinity) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) return done(new SizeLimitExceededError(this.maxSize));
    for (const h of Object.values(this.hashes)) h.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = {
      size: this.size,
      md5: this.hashes.md5.digest('hex'),
      sha1: this.hashes.sha1.digest('hex'),
      sha256: this.hashes.sha256.digest('hex'),
      sha512: this.hashes.sha512.digest('hex'),
    };
    done();
  }

  /** Available once the stream has ended. */
  digests(): Digests {
    if (!this.result) throw new Error('the stream has not ended');
    return this.result;
  }
}
