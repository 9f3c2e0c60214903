import type { FastifyReply, FastifyRequest } from 'fastify';

import { type ContentCoding, negotiateEncoding } from './content-coding';
import { etagMatches } from './etag';
import { compressedBody, type RenderedDocument } from './rendered-document';

export interface SendRenderedOptions {
  contentType: string;
  /** Default `no-cache`: clients revalidate every time and mostly get a 304. */
  cacheControl?: string;
  /** Request headers the bytes depend on, besides Accept-Encoding (added whenever compression is offered). */
  vary?: string[];
  /** Codings offered, in order of preference on a tie. Default br then gzip; [] sends identity only. */
  encodings?: readonly ContentCoding[];
  /** Bodies smaller than this go uncompressed (default 1024 bytes: a compressed small body saves nothing). */
  compressFrom?: number;
  /** Sent as Last-Modified when given. */
  lastModified?: Date | null;
  /**
   * Answer If-Modified-Since (when there is no If-None-Match) from `lastModified`. Only for
   * dates that move whenever the bytes do (DocumentClock); a date read from rows misses a deletion.
   */
  ifModifiedSince?: boolean;
  /** Further response headers (checksums and the like). */
  headers?: Record<string, string>;
}

/**
 * Sends a rendered document: ETag (one per encoding, since the bytes differ), Content-Type,
 * Cache-Control and Vary; 304 on a matching If-None-Match; else the body, compressed when the
 * client accepts br or gzip, each variant made once per document. HEAD gets the headers of
 * the GET (Node sends no body).
 */
export async function sendRendered(
  request: FastifyRequest,
  reply: FastifyReply,
  doc: RenderedDocument,
  options: SendRenderedOptions,
): Promise<FastifyReply> {
  const offered = options.encodings ?? ['br', 'gzip'];
  const coding =
    doc.body.length >= (options.compressFrom ?? 1024) ? negotiateEncoding(request.headers['accept-encoding'], offered) : undefined;
  const etag = coding ? `${doc.etag.slice(0, -1)}-${coding}"` : doc.etag;
  const vary = [...(options.vary ?? [])];
  if (offered.length && !vary.some((v) => v.toLowerCase() === 'accept-encoding')) vary.push('Accept-Encoding');
  const headers: Record<string, string> = {
    'content-type': options.contentType,
    etag,
    'cache-control': options.cacheControl ?? 'no-cache',
  };
  if (vary.length) headers.vary = vary.join(', ');
  if (options.lastModified) headers['last-modified'] = options.lastModified.toUTCString();
  Object.assign(headers, options.headers);

  const inm = request.headers['if-none-match'];
  if (inm !== undefined ? etagMatches(inm, etag) : options.ifModifiedSince && notModifiedSince(request, options.lastModified)) {
    return reply.headers(headers).status(304).send();
  }
  // The document's headers go out with its body only: an error while compressing is answered
  // by the error filter without them.
  const body = coding ? await compressedBody(doc, coding) : doc.body;
  if (coding) headers['content-encoding'] = coding;
  return reply.headers(headers).header('content-length', body.length).send(body);
}

function notModifiedSince(request: FastifyRequest, lastModified: Date | null | undefined): boolean {
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  return !!lastModified && !Number.isNaN(since) && lastModified.getTime() <= since;
}
