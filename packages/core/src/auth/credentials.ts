import { parseCookie } from 'cookie';

import type { CredentialSource } from './principal';
import type { TokenKind } from './token.entity';

export interface PresentedCredential {
  secret: string;
  source: CredentialSource;
  /** The kind the header demands; Basic, Bearer and query tokens may be any kind. */
  kind?: TokenKind;
  username?: string;
}

type Headers = Record<string, string | string[] | undefined>;

/** The web UI's session cookie: an httpOnly, SameSite=Strict token of kind `session`. */
export const SESSION_COOKIE = 'stowage_session';

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
}

/** The secret of the session cookie a request carries. */
export function sessionSecret(headers: Headers): string | undefined {
  const cookies = header(headers, 'cookie');
  return (cookies ? parseCookie(cookies)[SESSION_COOKIE] : undefined) || undefined;
}

/** The one credential a request carries, in GitLab's order of precedence. */
export function presentedCredential(
  headers: Headers,
  query: Record<string, unknown> = {},
  opts: { formatHeaders?: readonly string[]; session?: boolean } = {},
): PresentedCredential | null {
  const formatHeaders = opts.formatHeaders ?? [];
  const privateToken = header(headers, 'private-token');
  if (privateToken) return { secret: privateToken, source: 'private-token', kind: 'personal' };
  const jobToken = header(headers, 'job-token');
  if (jobToken) return { secret: jobToken, source: 'job-token', kind: 'job' };
  const deployToken = header(headers, 'deploy-token');
  if (deployToken) return { secret: deployToken, source: 'deploy-token', kind: 'deploy' };

  const authorization = header(headers, 'authorization');
  if (authorization) {
    const [scheme, ...rest] = authorization.split(' ');
    const value = rest.join(' ').trim();
    if (/^basic$/i.test(scheme) && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const username = colon >= 0 ? decoded.slice(0, colon) : decoded;
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      return { secret: password, source: 'basic', username };
    }
    if (/^bearer$/i.test(scheme) && value) return { secret: value, source: 'bearer' };
  }

  // Headers a format plugin declares for its clients (FormatPluginDefinition.credentialHeaders).
  for (const name of formatHeaders) {
    const value = header(headers, name);
    if (value) return { secret: value, source: 'format-header' };
  }

  for (const [param, kind] of [
    ['private_token', 'personal'],
    ['job_token', 'job'],
  ] as const) {
    const v = query[param];
    if (typeof v === 'string' && v) return { secret: v, source: 'query', kind };
  }

  // The web UI's session (web-session.ts): last, so a script's own credential always wins.
  const session = opts.session ? sessionSecret(headers) : undefined;
  if (session) return { secret: session, source: 'cookie', kind: 'session' };
  return null;
}
