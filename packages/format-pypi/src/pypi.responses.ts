import { HttpError, httpErrors, type RenderedDocument, sendRendered } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { HTML_TYPE, JSON_TYPE, negotiate, type SimpleFormat } from './pypi.render';

/** The representation the client asked for (PEP 691), or 406. */
export function requestedFormat(request: FastifyRequest): SimpleFormat {
  const format = negotiate(request.headers.accept, request.headers['user-agent']);
  if (!format) {
    throw new HttpError(406, { message: `406 Not Acceptable - use ${JSON_TYPE}, application/vnd.pypi.simple.v1+html or text/html` });
  }
  return format;
}

/** Sends a rendered index document: ETag, 304, br/gzip for clients that accept it (pip, uv). */
export function sendDocument(
  request: FastifyRequest,
  reply: FastifyReply,
  doc: RenderedDocument,
  format: SimpleFormat,
  headers?: Record<string, string>,
): Promise<FastifyReply> {
  return sendRendered(request, reply, doc, {
    headers,
    contentType: format === 'json' ? JSON_TYPE : HTML_TYPE,
    vary: ['Accept', 'User-Agent'],
    cacheControl: 'private, no-cache',
    compressFrom: 0,
  });
}

export const packageNotFound = () => httpErrors.notFound('Package');
