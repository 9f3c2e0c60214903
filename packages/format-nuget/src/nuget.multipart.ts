import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * NuGet 2.x ends its push body with `\n--<boundary>--` (a bare LF before the closing
 * delimiter), which RFC 7578 parsers rightly refuse. This holds back the body's last bytes
 * and, at the end, turns that bare LF into CRLF; every other byte passes unchanged.
 */
export function lenientClosingDelimiter(boundary: string): Transform {
  const closing = Buffer.from(`\n--${boundary}--`);
  const keep = closing.length + 8;
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const all = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      if (all.length <= keep) {
        tail = all;
        return done();
      }
      tail = Buffer.from(all.subarray(all.length - keep)) as Buffer;
      done(null, all.subarray(0, all.length - keep));
    },
    flush(done: TransformCallback) {
      const at = tail.lastIndexOf(closing);
      if (at >= 0 && (at === 0 || tail[at - 1] !== 0x0d))
        tail = Buffer.concat([tail.subarray(0, at), Buffer.from('\r'), tail.subarray(at)]);
      done(null, tail);
    },
  });
}

/**
 * `body` with its closing delimiter made lenient. Joined with pipeline(), not pipe(): a
 * client that goes away must fail the form, and pipe() would leave it waiting for more bytes.
 */
export function withLenientClosingDelimiter(body: Readable, boundary: string): Readable {
  return pipeline(body, lenientClosingDelimiter(boundary), () => undefined);
}
