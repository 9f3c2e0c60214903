import { createHash, timingSafeEqual } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { Token } from './token.entity';
import { TokensService } from './tokens.service';
import type { User } from './user.entity';

/** How long a web sign-in lasts (never past the personal access token it was made with). */
export const SESSION_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** Live sessions kept per personal access token; older ones are signed out. */
const SESSIONS_PER_TOKEN = 20;

type Headers = Record<string, string | string[] | undefined>;

/**
 * The CSRF token of a session: derived from its secret, which only the httpOnly cookie holds, so
 * a page of another origin can neither read nor compute it, and nothing needs storing.
 */
export function csrfTokenFor(sessionSecret: string): string {
  return createHash('sha256').update(`stowage-csrf:${sessionSecret}`, 'utf8').digest('base64url');
}

export function csrfTokenMatches(headers: Headers, sessionSecret: string): boolean {
  const sent = headers['x-csrf-token'];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionSecret));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Web UI sessions: tokens of kind `session` derived from a personal access token (see AuthService). */
@Injectable()
export class WebSessions {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tokens: TokensService,
  ) {}

  /** Signs in with `personal`, a live personal access token of `user`; the secret goes in the cookie only. */
  async create(personal: Token, user: User): Promise<{ secret: string; expiresAt: Date }> {
    const limit = Date.now() + SESSION_LIFETIME_MS;
    const expiresAt = new Date(personal.expires_at ? Math.min(personal.expires_at.getTime(), limit) : limit);
    const { secret } = await this.tokens.create({
      kind: 'session',
      name: 'web session',
      scopes: personal.scopes,
      userId: user.id,
      parentId: personal.id,
      keepDerived: SESSIONS_PER_TOKEN,
      expiresAt,
    });
    return { secret, expiresAt };
  }

  /** Signs out: the session's row goes, on every server at once (the access epoch moves). */
  async end(session: Token): Promise<void> {
    if (session.kind !== 'session') return;
    await this.ds.query("DELETE FROM tokens WHERE id = $1 AND kind = 'session'", [session.id]);
  }
}
