export { type ContentCoding, negotiateEncoding } from './content-coding';
export { etagMatches } from './etag';
export { compressedBody, documentBytes, type RenderedDocument, renderedDocument } from './rendered-document';
export { DEFAULT_RENDERED_CACHE_BYTES, RenderedDocuments, type RenderedDocumentsOptions } from './rendered-documents';
export { sendRendered, type SendRenderedOptions } from './send-rendered';
