import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { auditEvents } from '../audit/audit-events';
import { AuditLog } from '../audit/audit-log';
import { ApiAccess } from '../auth/api-access.guard';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import type { Token } from '../auth/token.entity';
import { TokensService } from '../auth/tokens.service';
import { UsersService } from '../auth/users.service';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { personalTokenJson } from './representations';
import { tokenFilters } from './token-filters';
import { rotationExpiry } from './token-rotation';

/** A personal token's audit events belong to its user. */
const ownerOf = (token: Token) => ({ type: 'User' as const, id: token.user_id! });

type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/** A personal token a user manages (not a derived one: Conan logins and web sessions live and die with theirs). */
function managed(token: Token | null): token is Token {
  return token !== null && token.kind === 'personal' && token.parent_id === null;
}

/**
 * GitLab's personal access tokens API (lib/api/personal_access_tokens.rb and its self_* parts):
 * a user's own tokens, or anyone's for an admin. As GitLab, a non-admin asking about a token
 * that is not theirs gets 401 whether it exists or not; only an admin learns it does not exist.
 */
@Controller('api/v4/personal_access_tokens')
export class PersonalAccessTokensController {
  constructor(
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get()
  @ApiAccess()
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const caller = this.user(principal);
    const p = new ApiParams(query, {});
    const userId = p.integer('user_id');
    if (caller.user.is_admin) {
      if (userId !== undefined && !(await this.users.findById(userId))) throw httpErrors.notFound();
    } else if (userId !== undefined && userId !== caller.user.id) {
      throw httpErrors.unauthorized();
    }
    const owner = caller.user.is_admin ? userId : caller.user.id;
    const filters = tokenFilters(query);
    const page = pageParams(query);
    const [tokens, total] = await this.tokens.pageQuery((qb) => {
      qb.where("t.kind = 'personal' AND t.parent_id IS NULL");
      if (owner !== undefined) qb.andWhere('t.user_id = :owner', { owner });
      filters(qb);
    }, page);
    setPaginationHeaders(req, reply, page, total, externalBaseUrl(this.config));
    return tokens.map((t) => personalTokenJson(t));
  }

  @Get('self')
  @ApiAccess()
  self(@CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'user') throw httpErrors.notFound();
    return personalTokenJson(principal.token);
  }

  @Get(':token_id')
  @ApiAccess()
  async show(@Param('token_id') id: string, @CurrentPrincipal() principal: Principal) {
    return personalTokenJson(await this.reachable(principal, id));
  }

  /** The caller's own token: a new secret, the presented one revoked at once. */
  @Post('self/rotate')
  @ApiAccess({ write: true, scopes: ['self_rotate'] })
  @HttpCode(200)
  async rotateSelf(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Query() query: unknown) {
    const caller = this.user(principal);
    // A web session is not a personal token: it has no secret of its own to hand back.
    if (caller.token.kind !== 'personal') throw httpErrors.forbidden();
    return this.rotate(caller.token, query, body);
  }

  @Post(':token_id/rotate')
  @ApiAccess({ write: true })
  @HttpCode(200)
  async rotateOne(@Param('token_id') id: string, @CurrentPrincipal() principal: Principal, @Body() body: unknown, @Query() query: unknown) {
    return this.rotate(await this.reachable(principal, id), query, body);
  }

  /** Revokes the presented token (`self`), the caller's own one, or any for an admin. */
  @Delete(':token_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async revoke(@Param('token_id') id: string, @CurrentPrincipal() principal: Principal) {
    const caller = this.user(principal);
    if (id === 'self') {
      if (caller.token.kind !== 'personal') throw httpErrors.forbidden();
      await this.tokens.revoke(caller.token);
      await this.audit.record(auditEvents.tokenRevoked(caller.token, ownerOf(caller.token)));
      return;
    }
    const token = /^\d{1,9}$/.test(id) ? await this.tokens.findById(Number(id)) : null;
    if (!managed(token)) throw httpErrors.notFound();
    // GitLab's RevokeService: the token exists, the caller may not revoke it.
    if (token.user_id !== caller.user.id && !caller.user.is_admin) throw httpErrors.badRequest('Not permitted to revoke');
    await this.tokens.revoke(token);
    await this.audit.record(auditEvents.tokenRevoked(token, ownerOf(token)));
  }

  private async rotate(token: Token, query: unknown, body: unknown) {
    const expiresAt = rotationExpiry(query, body);
    const rotated = await this.tokens.rotate(token, expiresAt);
    if (!rotated) throw httpErrors.badRequest('token already revoked');
    await this.audit.record(auditEvents.tokenRotated(token, rotated.token, ownerOf(token)));
    return personalTokenJson(rotated.token, rotated.secret);
  }

  /** A token the caller may see: its own, or any for an admin; else 401 (404 to an admin only). */
  private async reachable(principal: Principal, id: string): Promise<Token> {
    const caller = this.user(principal);
    const token = /^\d{1,9}$/.test(id) ? await this.tokens.findById(Number(id)) : null;
    if (managed(token) && (token.user_id === caller.user.id || caller.user.is_admin)) return token;
    throw caller.user.is_admin ? httpErrors.notFound() : httpErrors.unauthorized();
  }

  private user(principal: Principal): UserPrincipal {
    if (principal.kind !== 'user') throw httpErrors.forbidden();
    return principal;
  }
}
