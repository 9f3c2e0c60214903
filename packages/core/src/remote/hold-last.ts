import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through but keeps the latest chunk back until `verdict` settles: released when
 * it resolves, and the stream fails (the connection is cut short) when it rejects. A client
 * streamed a file before its digest could be checked so never receives all of a wrong file.
 */
export class HoldLast extends Transform {
  private held: Buffer | null = null;

  constructor(private readonly verdict: Promise<unknown>) {
    super();
    verdict.catch(() => undefined);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const previous = this.held;
    this.held = chunk;
    done(null, previous ?? undefined);
  }

  override _flush(done: TransformCallback): void {
    this.verdict.then(
      () => done(null, this.held ?? undefined),
      (err: Error) => done(err),
    );
  }
}
