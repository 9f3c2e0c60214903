import type { FastifyReply } from 'fastify';

import type { ChecksumKind } from './maven.naming';

/** A checksum file's answer: the bare lower-case hex, as Maven Central serves them. */
export function sendChecksum(reply: FastifyReply, hex: string): FastifyReply {
  return reply.header('content-type', 'text/plain').send(hex.trim());
}

const HEX_LENGTH: Record<ChecksumKind, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

/**
 * The digest in a checksum file as Maven Resolver reads one (`ChecksumUtils.read`): the first
 * line's hex, before a space (`<hex>  <file>`) or after the last one of a BSD-style
 * `MD5 (file) = <hex>`; null when that is not a digest of the kind's length.
 */
export function readChecksum(body: Buffer, kind: ChecksumKind): string | null {
  const line = body.subarray(0, 1024).toString('latin1').trim().split(/\r?\n/)[0].trim();
  const hex = /.+= [0-9A-Fa-f]+$/.test(line) ? line.slice(line.lastIndexOf(' ') + 1) : line.split(/\s/)[0];
  return new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[kind]}}$`).test(hex) ? hex.toLowerCase() : null;
}
