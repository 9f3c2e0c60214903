import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

import { digestWorker, type WorkerUpload } from './digest-worker';

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

/** A body of more than this many bytes has md5, sha1 and sha512 computed on the digest worker. */
export const OFF_THREAD_MIN_SIZE = 1024 * 1024;

/**
 * Passes bytes through unchanged while counting them and computing every digest a format
 * may need, so each upload is read exactly once. Fails as soon as `maxSize` is passed.
 * sha256 is computed here; md5, sha1 and sha512 here too for a body of OFF_THREAD_MIN_SIZE or
 * less (not worth a round trip), on the digest worker, in parallel, for a larger one: the first
 * chunks are kept until the body is known to be larger, then sent there.
 */
export class HashingMeter extends Transform {
  private readonly sha256 = createHash('sha256');
  /** Chunks not yet hashed but by sha256, while the body may still be small. */
  private firstChunks: Buffer[] | undefined = [];
  private remote?: WorkerUpload;
  private size = 0;
  private result?: Digests;

  constructor(private readonly maxSize = Infinity) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) return done(new SizeLimitExceededError(this.maxSize));
    this.sha256.update(chunk);
    let full: Promise<void> | null = null;
    if (this.firstChunks) {
      this.firstChunks.push(chunk);
      if (this.size <= OFF_THREAD_MIN_SIZE) return done(null, chunk);
      this.remote = digestWorker.begin();
      for (const c of this.firstChunks) full = this.remote.update(c) ?? full;
      this.firstChunks = undefined;
    } else full = this.remote?.update(chunk) ?? null;
    if (!full) return done(null, chunk);
    full.then(() => done(null, chunk), done);
  }

  override _flush(done: TransformCallback): void {
    const finish = (d: Record<'md5' | 'sha1' | 'sha512', string>) => {
      this.result = { size: this.size, md5: d.md5, sha1: d.sha1, sha256: this.sha256.digest('hex'), sha512: d.sha512 };
      done();
    };
    if (this.remote) return void this.remote.digests().then(finish, done);
    const [md5, sha1, sha512] = (['md5', 'sha1', 'sha512'] as const).map((alg) => {
      const h: Hash = createHash(alg);
      for (const c of this.firstChunks ?? []) h.update(c);
      return h.digest('hex');
    });
    this.firstChunks = undefined;
    finish({ md5, sha1, sha512 });
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.firstChunks = undefined;
    if (!this.result) this.remote?.drop();
    done(err);
  }

  /** Available once the stream has ended. */
  digests(): Digests {
    if (!this.result) throw new Error('the stream has not ended');
    return this.result;
  }
}
