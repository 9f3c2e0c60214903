import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';

import { AccessCache } from '../database/access-cache';
import { AccessEpoch } from '../database/access-epoch';
import { httpErrors } from '../http/http-error';
import { addSecretNames } from '../http/log-redaction';
import { FormatRegistry } from '../plugin/format-registry';
import { type PresentedCredential, presentedCredential } from './credentials';
import { ANONYMOUS, type Authentication } from './principal';
import { Token } from './token.entity';
import { digestTokenSecret } from './token-secret';
import { User } from './user.entity';
import { csrfTokenMatches } from './web-session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const AUTHENTICATIONS = Symbol('stowage.authentications');
/** last_used_at is refreshed at most this often per token, to keep reads free of writes. */
const TOUCH_INTERVAL_MS = 60_000;

/** How a request is authenticated: see `authenticate`. */
export interface AuthenticateOptions {
  session?: boolean;
  /** Any HTTP Basic user name goes with a job or deploy token (GitLab's Conan routes); see `basicUsernameMatches`. */
  anyBasicUsername?: boolean;
}

/** GitLab's user name for a CI job token sent with HTTP Basic (Gitlab::Auth::CI_JOB_USER). */
export const CI_JOB_USER = 'gitlab-ci-token';

/**
 * GitLab's rules for the Basic user name: a job token only with `gitlab-ci-token`
 * (auth_finders' find_user_from_job_token_basic_auth), a deploy token only with its own user
 * name (as Git and the registry check it), and `gitlab-ci-token` only with a job token. A
 * personal, project or group access token goes with any user name.
 */
function basicUsernameMatches(token: Token, username: string): boolean {
  if (token.kind === 'job') return username === CI_JOB_USER;
  if (username === CI_JOB_USER) return false;
  if (token.kind === 'deploy') return username === token.username;
  return true;
}

/** A token row with its user and, for a derived token, its parent: what a credential stands for. */
interface TokenRecord {
  token: Token;
  user: User | null;
  parent: Token | null;
}

/** Tokens kept in memory per process; each is a few hundred bytes. */
const CACHED_TOKENS = 10_000;

function live(token: Token, now: number): boolean {
  return !token.revoked_at && !(token.expires_at && token.expires_at.getTime() <= now);
}

@Injectable()
export class AuthService {
  private readonly formatHeaders: readonly string[];

  /** By the secret's digest; only tokens that exist (a flood of made-up secrets evicts nothing useful). */
  private readonly tokens: AccessCache<TokenRecord | null>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    formats: FormatRegistry,
    private readonly epoch: AccessEpoch,
  ) {
    this.tokens = new AccessCache(epoch, ['tokens', 'users'], CACHED_TOKENS);
    this.formatHeaders = formats.credentialHeaders();
    addSecretNames(this.formatHeaders); // whatever a format reads a credential from, the log never shows
  }

  /**
   * Who the request acts as; computed once per request. It first brings the access caches up
   * to date (AccessEpoch), so everything the request reads through them is current. The web
   * UI's session cookie counts only with `session` (the REST API, the Packages API, the pages):
   * package-manager routes never act on it, so a README's `<img>` pointing at one (Conan's
   * token-minting GET, say) acts as nobody.
   */
  async authenticate(request: FastifyRequest, opts: AuthenticateOptions = {}): Promise<Authentication> {
    const holder = request as unknown as Record<symbol, Map<string, Promise<Authentication>> | undefined>;
    const done = (holder[AUTHENTICATIONS] ??= new Map());
    const key = `${opts.session ? 's' : ''}${opts.anyBasicUsername ? 'u' : ''}`;
    const known = done.get(key);
    if (known) return known;
    const result = this.epoch.sync().then(() => {
      const credential = presentedCredential(request.headers, (request.query ?? {}) as Record<string, unknown>, {
        formatHeaders: this.formatHeaders,
        session: opts.session,
      });
      // A cookie arrives with any request the browser sends, a forged one too: a change needs the session's CSRF token.
      if (credential?.source === 'cookie' && !SAFE_METHODS.has(request.method) && !csrfTokenMatches(request.headers, credential.secret)) {
        throw httpErrors.forbidden('CSRF token missing or invalid');
      }
      return this.authenticateCredential(credential, opts);
    });
    done.set(key, result);
    return result;
  }

  async authenticateCredential(credential: PresentedCredential | null, opts: AuthenticateOptions = {}): Promise<Authentication> {
    if (!credential) return { principal: ANONYMOUS, rejected: false };
    // GitLab raises on a Basic `gitlab-ci-token` login that is no job's: 401 even on public
    // reads, where any other unknown Basic login reads as anonymous (the guard's 'basic' rule).
    const ciLogin = credential.source === 'basic' && credential.username === CI_JOB_USER && !opts.anyBasicUsername;
    const rejected: Authentication = { principal: ANONYMOUS, rejected: true, source: ciLogin ? 'job-token' : credential.source };
    if (!credential.secret || credential.secret.length > 512) return rejected;

    const digest = digestTokenSecret(credential.secret);
    const record = await this.tokens.get(
      digest,
      () => this.loadToken(digest),
      (r) => r !== null,
    );
    if (!record || (credential.kind && credential.kind !== record.token.kind)) return rejected;
    if (credential.source === 'basic' && !opts.anyBasicUsername && !basicUsernameMatches(record.token, credential.username ?? '')) {
      return rejected;
    }
    // A session is only ever the cookie, and the cookie only ever a session.
    if ((record.token.kind === 'session') !== (credential.source === 'cookie')) return rejected;
    const { token, user, parent } = record;
    const now = Date.now();
    if (!live(token, now)) return rejected;
    if (token.parent_id !== null && (!parent || !live(parent, now))) return rejected;
    this.touch(token, now);

    if (token.kind === 'deploy') return { principal: { kind: 'deploy', token }, rejected: false, source: credential.source };
    if (!user || user.state !== 'active') return rejected;
    const kind = token.kind === 'job' ? 'job' : 'user';
    return { principal: { kind, user, token }, rejected: false, source: credential.source };
  }

  /** The token and its user in one query, and its parent if it has one. */
  private async loadToken(digest: string): Promise<TokenRecord | null> {
    const token = (await this.ds
      .getRepository(Token)
      .createQueryBuilder('t')
      .leftJoinAndMapOne('t.userRow', User, 'u', 'u.id = t.user_id')
      .where('t.digest = :digest', { digest })
      .getOne()) as (Token & { userRow?: User | null }) | null;
    if (!token) return null;
    const user = token.userRow ?? null;
    delete token.userRow;
    const parent = token.parent_id === null ? null : await this.ds.getRepository(Token).findOneBy({ id: token.parent_id });
    return { token, user, parent };
  }

  private touch(token: Token, now: number): void {
    if (token.last_used_at && now - token.last_used_at.getTime() < TOUCH_INTERVAL_MS) return;
    // The cached row too, so the next request does not write again (last_used_at changes announce nothing).
    token.last_used_at = new Date(now);
    // Fire and forget: a lost update of a usage timestamp is harmless.
    this.ds.query('UPDATE tokens SET last_used_at = now() WHERE id = $1', [token.id]).catch(() => undefined);
  }
}
