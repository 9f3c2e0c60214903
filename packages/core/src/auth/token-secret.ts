import { createHash, randomBytes } from 'node:crypto';

import type { TokenKind } from './token.entity';

const PREFIX: Record<TokenKind, string> = { personal: 'stwpat-', deploy: 'stwdt-', job: 'stwjt-', session: 'stwses-' };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new secret: a kind prefix (so leaked tokens are recognisable) and 32 random characters. */
export function generateTokenSecret(kind: TokenKind): string {
  const bytes = randomBytes(32);
  let body = '';
  // 256 % 62 ≠ 0, so drop the few bytes that would bias the alphabet.
  for (const b of bytes) if (b < 248) body += ALPHABET[b % 62];
  while (body.length < 32) {
    const b = randomBytes(1)[0];
    if (b < 248) body += ALPHABET[b % 62];
  }
  return PREFIX[kind] + body.slice(0, 32);
}

/** What is stored instead of the secret. Secrets are random, so an unsalted hash is enough. */
export function digestTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
