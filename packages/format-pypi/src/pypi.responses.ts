import { HttpError, httpErrors } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { RenderedDocument } from './pypi.cache';
import { HTML_TYPE, JSON_TYPE, negotiate, type SimpleFormat } from './pypi.metadata';

/** The representation the client asked for (PEP 691), or 406. */
export function requestedFormat(request: FastifyRequest): SimpleFormat {
  const format = negotiate(request.headers.accept, request.headers['user-agent']);
  if (!format) {
    throw new HttpError(406, { message: `406 Not Acceptable - use ${JSON_TYPE}, application/vnd.pypi.simple.v1+html or text/html` });
  }
  return format;
}

/** Whether Accept-Encoding allows gzip (`gzip` or `*` with a q above 0). */
export function acceptsGzip(acceptEncoding: string | string[] | undefined): boolean {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  if (!header) return false;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const item of header.split(',')) {
    const [coding, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = q;
    else if (coding === '*') star = q;
  }
  return (gzip ?? star ?? 0) > 0;
}

/**
 * Sends a rendered index document with its ETag (one per encoding), gzipped when the client
 * accepts it, answering If-None-Match with 304.
 */
export function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: RenderedDocument, format: SimpleFormat): FastifyReply {
  const gzipped = acceptsGzip(request.headers['accept-encoding']);
  const etag = gzipped ? `${doc.etag.slice(0, -1)}-gzip"` : doc.etag;
  reply
    .header('content-type', format === 'json' ? JSON_TYPE : HTML_TYPE)
    .header('vary', 'Accept, Accept-Encoding, User-Agent')
    .header('etag', etag)
    .header('cache-control', 'private, no-cache');
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) return reply.status(304).send();
  if (gzipped) reply.header('content-encoding', 'gzip');
  const body = gzipped ? doc.gzip : doc.body;
  return reply.header('content-length', body.length).send(body);
}

export const packageNotFound = () => httpErrors.notFound('Package');
