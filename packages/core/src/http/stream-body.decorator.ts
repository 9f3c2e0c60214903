import type { Readable } from 'node:stream';

import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

/**
 * The route reads its body as a raw stream whatever its Content-Type: a generic upload of a
 * `.json` file sent as `application/json` must not meet the JSON parser. Read the stream
 * with `@Req() req` as `req.body ?? req.raw`.
 */
export const StreamBody = (): MethodDecorator => RouteConfig({ streamBody: true });

/** The Content-Type the client sent on a `@StreamBody()` route (the parser saw octet-stream). */
export const ORIGINAL_CONTENT_TYPE = 'x-stowage-original-content-type';

/** The request body as a stream (the payload handed over by the pass-through parser). */
export function requestStream(request: FastifyRequest): Readable {
  const body = request.body as { pipe?: unknown } | undefined;
  return body && typeof body.pipe === 'function' ? (body as Readable) : request.raw;
}

/** Content-Length as a number; undefined when chunked or absent. */
export function declaredLength(request: FastifyRequest): number | undefined {
  const v = request.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Whether the request carries a body at all (a length, or chunked framing). */
export function hasBody(request: FastifyRequest): boolean {
  const length = declaredLength(request);
  return length !== undefined ? length > 0 : request.headers['transfer-encoding'] !== undefined;
}

/**
 * Whether a body stream failed because the client went away: reset, or closed before its
 * end (Node destroys an aborted request without an error when nobody listens for one).
 */
export function isClientAbort(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
