import type { Token } from './token.entity';
import type { User } from './user.entity';

/** Who a request acts as. */
export type Principal =
  | { kind: 'anonymous' }
  /** A personal access token: the user's own permissions, limited by its scopes. */
  | { kind: 'user'; user: User; token: Token }
  /** A job token: its user's permissions, only within the token's project (reads of public projects aside). */
  | { kind: 'job'; user: User; token: Token }
  /** A deploy token: package access to its project, or to every project under its group. */
  | { kind: 'deploy'; token: Token };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** How the credentials arrived; Basic is the one where a bad password still reads public data. */
export type CredentialSource = 'private-token' | 'deploy-token' | 'job-token' | 'basic' | 'bearer' | 'format-header' | 'query' | 'cookie';

export interface Authentication {
  principal: Principal;
  /** Credentials were presented but are unknown, expired, revoked or of the wrong kind. */
  rejected: boolean;
  source?: CredentialSource;
}

export function principalUser(p: Principal): User | undefined {
  return p.kind === 'user' || p.kind === 'job' ? p.user : undefined;
}

export function principalScopes(p: Principal): readonly string[] {
  return p.kind === 'anonymous' ? [] : p.token.scopes;
}
