import type { FastifyRequest } from 'fastify';

import type { Principal } from '../auth/principal';
import { findRequestContext } from '../auth/request-context';
import type { TokenKind } from '../auth/token.entity';

/** Who an audit event is by: a user (through one of their tokens), a deploy token, or nobody signed in. */
export interface AuditAuthor {
  /** The user's id; GitLab's -1 for nobody signed in (or a background job), -2 for a deploy token. */
  id: number;
  name: string;
  username?: string;
  email?: string;
  /** The token the request was made with (never its secret). */
  tokenId?: number;
  tokenKind?: TokenKind;
}

export const UNAUTHENTICATED_AUTHOR: AuditAuthor = { id: -1, name: 'An unauthenticated user' };

/** For events of Stowage's own background work (a cleanup policy's run, say). */
export const SYSTEM_AUTHOR: AuditAuthor = { id: -1, name: 'Stowage' };

export function principalAuthor(principal: Principal): AuditAuthor {
  switch (principal.kind) {
    case 'user':
    case 'job':
      return {
        id: principal.user.id,
        name: principal.user.name,
        username: principal.user.username,
        email: principal.user.email ?? undefined,
        tokenId: principal.token.id,
        tokenKind: principal.token.kind,
      };
    case 'deploy':
      return {
        id: -2,
        name: principal.token.name,
        username: principal.token.username ?? undefined,
        tokenId: principal.token.id,
        tokenKind: 'deploy',
      };
    case 'anonymous':
      return UNAUTHENTICATED_AUTHOR;
  }
}

/** The author of what `request` does, as its access guard authenticated it; a request no guard ran for acts as nobody. */
export function requestAuthor(request: FastifyRequest | undefined): AuditAuthor {
  const ctx = request ? findRequestContext(request) : undefined;
  return ctx ? principalAuthor(ctx.auth.principal) : request ? UNAUTHENTICATED_AUTHOR : SYSTEM_AUTHOR;
}
