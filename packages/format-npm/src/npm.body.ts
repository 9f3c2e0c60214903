import type { FastifyRequest } from 'fastify';
import { declaredLength, requestStream } from '@stowage/core';
import { npmError, npmErrors } from './npm.errors';

const tooLarge = (limit: number) => npmError(413, `Request body is too large (the limit is ${limit} bytes)`);

/**
 * Reads a JSON body of at most `limit` bytes. npm's publish carries its tarball inside the
 * JSON, so this is the one body a format buffers; the limit comes from the format config.
 */
export async function readJsonBody(request: FastifyRequest, limit: number): Promise<unknown> {
  const length = declaredLength(request);
  if (length !== undefined && length > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of requestStream(request) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  if (!size) throw npmErrors.badRequest('Request body is empty');
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch {
    throw npmErrors.badRequest('Request body is not valid JSON');
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
