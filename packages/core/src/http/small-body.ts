import type { Readable } from 'node:stream';

import { httpErrors } from './http-error';
import { isClientAbort } from './stream-body.decorator';

/** Overflow read to its end and dropped, so the connection can carry the next request. */
const DRAIN_BYTES = 64 * 1024;

/**
 * Reads a body that must be small (a checksum, a JSON document) into memory. Past `max`
 * bytes it rejects with `tooLarge()` without destroying the request: destroying an
 * unfinished request destroys its socket, and the client sees a reset instead of the answer.
 * A small overflow is read to the end and dropped (the connection stays usable); a larger
 * one (or a declared length past it) is refused at once, the rest is discarded as it comes,
 * and the error answer closes the connection (`sendHttpError` sees the body unfinished).
 */
export interface SmallBodyOptions {
  max: number;
  /** Content-Length, when the client sent one. */
  declared?: number;
  tooLarge: () => Error;
  /** false: count the bytes and keep none (a body the route ignores); the answer is then empty. */
  keep?: boolean;
}

export async function readSmallBody(body: Readable, opts: SmallBodyOptions): Promise<Buffer> {
  const discardRest = () => {
    if (!body.readableEnded) body.resume();
  };
  if (opts.declared !== undefined && opts.declared > opts.max + DRAIN_BYTES) {
    discardRest();
    throw opts.tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > opts.max + DRAIN_BYTES) break;
      if (size <= opts.max && opts.keep !== false) chunks.push(chunk);
    }
  } catch (err) {
    // A client that went away is no server error (nobody reads this answer; the log does).
    if (isClientAbort(err)) throw httpErrors.badRequest('the request body is incomplete: the client closed the connection');
    throw err;
  }
  if (size > opts.max) {
    discardRest();
    throw opts.tooLarge();
  }
  return Buffer.concat(chunks);
}
