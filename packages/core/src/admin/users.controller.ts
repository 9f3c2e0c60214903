import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsNull, Not } from 'typeorm';

import { auditEvents } from '../audit/audit-events';
import { AuditLog, entityOf } from '../audit/audit-log';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { TOKEN_SCOPES } from '../auth/scopes';
import { TokensService } from '../auth/tokens.service';
import type { User } from '../auth/user.entity';
import { UsersService } from '../auth/users.service';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { HttpError, httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { pathProblem } from '../projects/paths';
import { ProjectsService } from '../projects/projects.service';
import { personalTokenJson, userJson } from './representations';

@Controller('api/v4')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly projects: ProjectsService,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  @Get('user')
  @ApiAccess()
  currentUser(@CurrentPrincipal() principal: Principal) {
    const user = principalUser(principal)!;
    return userJson(user, this.baseUrl, { admin: true });
  }

  @Post('users')
  @ApiAccess({ write: true, admin: true })
  async create(@Body() body: unknown, @Query() query: unknown) {
    const p = new ApiParams(query, body);
    const username = p.string('username', { required: true, max: 255 });
    const name = p.string('name', { required: true, max: 255 });
    const email = p.string('email', { max: 255 });
    const admin = p.boolean('admin') ?? false;
    const problem = pathProblem(username);
    if (problem) throw httpErrors.validation({ username: [problem] });
    if ((await this.users.findByUsername(username)) || (await this.projects.fullPathTaken(username))) {
      throw new HttpError(409, { message: 'Username has already been taken' });
    }
    const user = await this.users.create({ username, name, email, is_admin: admin });
    return userJson(user, this.baseUrl, { admin: true });
  }

  @Get('users/:user_id')
  @ApiAccess()
  async show(@Param('user_id') id: string, @CurrentPrincipal() principal: Principal) {
    const user = /^\d{1,9}$/.test(id) ? await this.users.findById(Number(id)) : null;
    if (!user) throw httpErrors.notFound('User');
    return userJson(user, this.baseUrl, { admin: principalUser(principal)?.is_admin });
  }

  @Post('users/:user_id/personal_access_tokens')
  @ApiAccess({ write: true, admin: true })
  async createToken(@Param('user_id') id: string, @Body() body: unknown, @Query() query: unknown) {
    const user = /^\d{1,9}$/.test(id) ? await this.users.findById(Number(id)) : null;
    if (!user) throw httpErrors.notFound('User');
    return this.createPersonalToken(user, query, body);
  }

  /** A token for the caller itself (GitLab limits this one to `k8s_proxy`; here any scope, as the UI's tokens page needs). */
  @Post('user/personal_access_tokens')
  @ApiAccess({ write: true })
  async createOwnToken(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Query() query: unknown) {
    if (principal.kind !== 'user') throw httpErrors.forbidden();
    return this.createPersonalToken(principal.user, query, body);
  }

  /** The caller's personal access tokens; an admin's call lists everyone's, or one user's with `user_id`. */
  @Get('personal_access_tokens')
  @ApiAccess()
  async listTokens(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (principal.kind !== 'user') throw httpErrors.forbidden();
    const p = new ApiParams(query, {});
    const userId = p.integer('user_id');
    if (userId !== undefined && userId !== principal.user.id && !principal.user.is_admin) throw httpErrors.unauthorized();
    const revoked = p.boolean('revoked');
    const page = pageParams(query);
    const [tokens, total] = await this.tokens.page(
      {
        kind: 'personal',
        // Derived tokens (Conan logins) live and die with their parent; they are not the user's to manage here.
        parent_id: IsNull(),
        ...(userId !== undefined ? { user_id: userId } : principal.user.is_admin ? {} : { user_id: principal.user.id }),
        ...(revoked === undefined ? {} : { revoked_at: revoked ? Not(IsNull()) : IsNull() }),
      },
      page,
    );
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return tokens.map((t) => personalTokenJson(t));
  }

  private async createPersonalToken(user: User, query: unknown, body: unknown) {
    const p = new ApiParams(query, body);
    const name = p.string('name', { required: true, max: 255 });
    const scopes = p.list('scopes', { required: true, allowed: TOKEN_SCOPES })!;
    const expiresAt = p.expiry('expires_at') ?? null;
    const { token, secret } = await this.tokens.create({ kind: 'personal', name, scopes, userId: user.id, expiresAt });
    await this.audit.record(auditEvents.tokenCreated(token, entityOf.user(user)));
    return personalTokenJson(token, secret);
  }

  @Get('personal_access_tokens/self')
  @ApiAccess()
  self(@CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'user') throw httpErrors.notFound();
    return personalTokenJson(principal.token);
  }

  /** Revokes a token: the caller's own (`self` or its id), or any token for an admin. */
  @Delete('personal_access_tokens/:token_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async revoke(@Param('token_id') id: string, @CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'user') throw httpErrors.forbidden();
    const token = id === 'self' ? principal.token : /^\d{1,9}$/.test(id) ? await this.tokens.findById(Number(id)) : null;
    if (!token || token.kind !== 'personal') throw httpErrors.notFound();
    if (token.user_id !== principal.user.id && !principal.user.is_admin) throw httpErrors.notFound();
    await this.tokens.revoke(token);
    await this.audit.record(auditEvents.tokenRevoked(token, { type: 'User', id: token.user_id! }));
  }
}
