import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';

import { addSecretNames } from '../http/log-redaction';
import { FormatRegistry } from '../plugin/format-registry';
import { type PresentedCredential, presentedCredential } from './credentials';
import { ANONYMOUS, type Authentication } from './principal';
import { Token } from './token.entity';
import { digestTokenSecret } from './token-secret';
import { User } from './user.entity';

const AUTHENTICATION = Symbol('stowage.authentication');
/** last_used_at is refreshed at most this often per token, to keep reads free of writes. */
const TOUCH_INTERVAL_MS = 60_000;

function live(token: Token, now: number): boolean {
  return !token.revoked_at && !(token.expires_at && token.expires_at.getTime() <= now);
}

@Injectable()
export class AuthService {
  private readonly formatHeaders: readonly string[];

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    formats: FormatRegistry,
  ) {
    this.formatHeaders = formats.credentialHeaders();
    addSecretNames(this.formatHeaders); // whatever a format reads a credential from, the log never shows
  }

  /** Who the request acts as; computed once per request. */
  async authenticate(request: FastifyRequest): Promise<Authentication> {
    const holder = request as unknown as Record<symbol, Promise<Authentication> | undefined>;
    holder[AUTHENTICATION] ??= this.authenticateCredential(
      presentedCredential(request.headers, (request.query ?? {}) as Record<string, unknown>, this.formatHeaders),
    );
    return holder[AUTHENTICATION];
  }

  async authenticateCredential(credential: PresentedCredential | null): Promise<Authentication> {
    if (!credential) return { principal: ANONYMOUS, rejected: false };
    const rejected: Authentication = { principal: ANONYMOUS, rejected: true, source: credential.source };
    if (!credential.secret || credential.secret.length > 512) return rejected;

    // The token and its user in one query: this runs on every authenticated request.
    const token = (await this.ds
      .getRepository(Token)
      .createQueryBuilder('t')
      .leftJoinAndMapOne('t.userRow', User, 'u', 'u.id = t.user_id')
      .where('t.digest = :digest', { digest: digestTokenSecret(credential.secret) })
      .getOne()) as (Token & { userRow?: User | null }) | null;
    const user = token?.userRow ?? null;
    if (token) delete token.userRow;
    if (!token || (credential.kind && credential.kind !== token.kind)) return rejected;
    const now = Date.now();
    if (!live(token, now)) return rejected;
    if (token.parent_id !== null) {
      const parent = await this.ds.getRepository(Token).findOneBy({ id: token.parent_id });
      if (!parent || !live(parent, now)) return rejected;
    }
    this.touch(token, now);

    if (token.kind === 'deploy') return { principal: { kind: 'deploy', token }, rejected: false, source: credential.source };
    if (!user || user.state !== 'active') return rejected;
    const kind = token.kind === 'job' ? 'job' : 'user';
    return { principal: { kind, user, token }, rejected: false, source: credential.source };
  }

  private touch(token: Token, now: number): void {
    if (token.last_used_at && now - token.last_used_at.getTime() < TOUCH_INTERVAL_MS) return;
    // Fire and forget: a lost update of a usage timestamp is harmless.
    this.ds.query('UPDATE tokens SET last_used_at = now() WHERE id = $1', [token.id]).catch(() => undefined);
  }
}
