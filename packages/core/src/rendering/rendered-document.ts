import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

import { ownedBytes } from '../owned-bytes';
import type { ContentCoding } from './content-coding';

const compressors: Record<ContentCoding, (body: Buffer) => Promise<Buffer>> = {
  gzip: (body) => promisify(gzip)(body, { level: 6 }),
  // Quality 5 compresses a 2 MB index in tens of milliseconds, within a few percent of gzip's speed and smaller.
  br: (body) =>
    promisify(brotliCompress)(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
};

/**
 * A document rendered once per revision and sent many times: its bytes, its strong ETag, and
 * each compressed variant a client asked for, made once and kept beside it.
 */
export interface RenderedDocument {
  readonly body: Buffer;
  /** A quoted strong entity tag of `body`. */
  readonly etag: string;
  /** Compressed variants, made on first request (see compressedBody). */
  readonly encoded: Map<ContentCoding, Promise<Buffer>>;
  /** Bytes of the variants made so far. */
  encodedBytes: number;
  /** Set by the cache holding the document, to recount its bytes when a variant is added. */
  resized?: () => void;
}

/** A document of `body`; its ETag is a digest of the bytes unless the caller names one. */
export function renderedDocument(body: string | Buffer, etag?: string): RenderedDocument {
  const bytes = ownedBytes(body);
  return {
    body: bytes,
    etag: etag ?? `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"`,
    encoded: new Map(),
    encodedBytes: 0,
  };
}

/** The document's bytes in `coding`, compressed at most once (concurrent callers share the work). */
export function compressedBody(doc: RenderedDocument, coding: ContentCoding): Promise<Buffer> {
  let variant = doc.encoded.get(coding);
  if (!variant) {
    variant = compressors[coding](doc.body).then(ownedBytes);
    doc.encoded.set(coding, variant);
    variant.then(
      (bytes) => {
        doc.encodedBytes += bytes.length;
        doc.resized?.();
      },
      () => doc.encoded.delete(coding),
    );
  }
  return variant;
}

/** Bytes a document holds: its body and the variants made so far. */
export function documentBytes(doc: RenderedDocument): number {
  return doc.body.length + doc.encodedBytes;
}
