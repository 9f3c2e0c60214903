import { Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';

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

  private async createPersonalToken(user: User, query: unknown, body: unknown) {
    const p = new ApiParams(query, body);
    const name = p.string('name', { required: true, max: 255 });
    const scopes = p.list('scopes', { required: true, allowed: TOKEN_SCOPES })!;
    const expiresAt = p.expiry('expires_at') ?? null;
    const { token, secret } = await this.tokens.create({ kind: 'personal', name, scopes, userId: user.id, expiresAt });
    await this.audit.record(auditEvents.tokenCreated(token, entityOf.user(user)));
    return personalTokenJson(token, secret);
  }
}
