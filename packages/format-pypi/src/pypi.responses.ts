import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, httpErrors } from '@stowage/core';
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

/** Sends a rendered index document with its ETag, answering If-None-Match with 304. */
export function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: RenderedDocument, format: SimpleFormat): FastifyReply {
  reply
    .header('content-type', format === 'json' ? JSON_TYPE : HTML_TYPE)
    .header('vary', 'Accept, User-Agent')
    .header('etag', doc.etag)
    .header('cache-control', 'private, no-cache');
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === doc.etag || t.trim() === `W/${doc.etag}`)) return reply.status(304).send();
  return reply.header('content-length', doc.body.length).send(doc.body);
}

export const packageNotFound = () => httpErrors.notFound('Package');
