import { declaredLength, parseUntrustedJson, readSmallBody, requestStream, UntrustedJsonError } from '@stowage/core';
import type { FastifyRequest } from 'fastify';

import { npmError, npmErrors } from './npm.errors';

const tooLarge = (limit: number) => npmError(413, `Request body is too large (the limit is ${limit} bytes)`);

/**
 * Reads a JSON body of at most `limit` bytes. npm's publish carries its tarball inside the
 * JSON, so this is the one body a format buffers; the limit comes from the format config.
 * Nesting past core's bound and NUL characters (PostgreSQL stores neither) are a 400.
 */
export async function readJsonBody(request: FastifyRequest, limit: number): Promise<unknown> {
  const body = await readSmallBody(requestStream(request), {
    max: limit,
    declared: declaredLength(request),
    tooLarge: () => tooLarge(limit),
  });
  if (!body.length) throw npmErrors.badRequest('Request body is empty');
  try {
    return parseUntrustedJson(body.toString('utf8'));
  } catch (err) {
    if (err instanceof UntrustedJsonError && err.reason !== 'syntax') throw npmErrors.badRequest(`Request body is refused: ${err.message}`);
    throw npmErrors.badRequest('Request body is not valid JSON');
  }
}
