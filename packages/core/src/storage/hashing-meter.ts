import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

import { DIGEST_WORKER_BLOCK, digestWorker, type WorkerUpload } from './digest-worker';

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
/** The pending buffer's first size; it doubles up to OFF_THREAD_MIN_SIZE as a body grows. */
const FIRST_PENDING = 64 * 1024;

/**
 * Passes bytes through unchanged while counting them and computing every digest a format
 * may need, so each upload is read exactly once. Fails as soon as `maxSize` is passed.
 * sha256 is computed here. md5, sha1 and sha512 are computed here too for a body of
 * OFF_THREAD_MIN_SIZE or less (not worth a round trip), and on the digest worker, in parallel,
 * for a larger one. Either way the bytes not yet given to them are copied into one pending
 * buffer (up to OFF_THREAD_MIN_SIZE while the body may be small, one ring slot after): whatever
 * the client's chunking, the meter holds one allocation, and the worker gets whole blocks, one
 * at a time.
 */
export class HashingMeter extends Transform {
  private readonly sha256 = createHash('sha256');
  private pending = Buffer.allocUnsafe(0);
  private pendingLength = 0;
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
    // The common case, a chunk that fits, without a promise.
    if (this.pendingLength + chunk.length < this.pending.length) {
      this.pendingLength += chunk.copy(this.pending, this.pendingLength);
      return done(null, chunk);
    }
    this.keep(chunk).then(() => done(null, chunk), done);
  }

  /** Copies `chunk` into the pending buffer, growing it, or sending it to the worker each time it is full. */
  private async keep(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) {
      if (this.pendingLength === this.pending.length) {
        if (!this.remote && this.pending.length < OFF_THREAD_MIN_SIZE) this.grow();
        else await this.sendPending();
        if (this.destroyed) return;
      }
      const n = chunk.copy(this.pending, this.pendingLength, at);
      this.pendingLength += n;
      at += n;
    }
  }

  private grow(): void {
    const bigger = Buffer.allocUnsafe(Math.min(OFF_THREAD_MIN_SIZE, Math.max(FIRST_PENDING, this.pending.length * 2)));
    this.pending.copy(bigger, 0, 0, this.pendingLength);
    this.pending = bigger;
  }

  /** Gives the pending bytes to the worker (started with the first full buffer) and waits until they are in its ring. */
  private async sendPending(): Promise<void> {
    const first = !this.remote;
    this.remote ??= digestWorker.begin();
    await this.remote.update(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
    // Past the first block the ring holds what waits: a block of one slot is enough here.
    if (first) this.pending = Buffer.allocUnsafe(DIGEST_WORKER_BLOCK);
  }

  override _flush(done: TransformCallback): void {
    const finish = (d: Record<'md5' | 'sha1' | 'sha512', string>) => {
      this.result = { size: this.size, md5: d.md5, sha1: d.sha1, sha256: this.sha256.digest('hex'), sha512: d.sha512 };
      this.pending = Buffer.allocUnsafe(0);
      done();
    };
    if (this.remote) {
      const remote = this.remote;
      void this.sendPending()
        .then(() => remote.digests())
        .then(finish, done);
      return;
    }
    const rest = this.pending.subarray(0, this.pendingLength);
    const [md5, sha1, sha512] = (['md5', 'sha1', 'sha512'] as const).map((alg) => createHash(alg).update(rest).digest('hex'));
    finish({ md5, sha1, sha512 });
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.pending = Buffer.allocUnsafe(0);
    if (!this.result) this.remote?.drop();
    done(err);
  }

  /** Available once the stream has ended. */
  digests(): Digests {
    if (!this.result) throw new Error('the stream has not ended');
    return this.result;
  }
}
