import { applyDecorators, type CanActivate, type ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { httpErrors } from '../http/http-error';
import { AuthService } from './auth.service';
import { setRequestContext } from './request-context';
import { scopesAllowApi } from './scopes';

interface ApiAccessMetadata {
  write: boolean;
  admin: boolean;
  anonymous: boolean;
  /** Scopes that open this route besides `api`/`read_api` (GitLab's `allow_access_with_scope`). */
  scopes: readonly string[];
}

const API_ACCESS = 'stowage:api-access';

/**
 * For the REST API outside the package endpoints (users, groups, projects, tokens): a
 * personal access token with `api` (or `read_api` for reads); `admin` for admin-only calls.
 * Per-resource permissions are the handler's to check.
 */
export const ApiAccess = (opts: Partial<ApiAccessMetadata> = {}) =>
  applyDecorators(
    SetMetadata(API_ACCESS, {
      write: opts.write ?? false,
      admin: opts.admin ?? false,
      anonymous: opts.anonymous ?? false,
      scopes: opts.scopes ?? [],
    } satisfies ApiAccessMetadata),
    UseGuards(ApiAccessGuard),
  );

@Injectable()
export class ApiAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.get<ApiAccessMetadata>(API_ACCESS, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const auth = await this.auth.authenticate(request, { session: true });
    const { principal } = auth;
    if (auth.rejected) throw httpErrors.unauthorized();
    if (principal.kind === 'anonymous') {
      if (!meta.anonymous) throw httpErrors.unauthorized();
    } else if (principal.kind === 'deploy') {
      throw httpErrors.unauthorized();
    } else {
      const scopes = principal.token.scopes;
      if (!scopesAllowApi(scopes, meta.write) && !meta.scopes.some((s) => scopes.includes(s))) throw httpErrors.insufficientScope();
      if (meta.admin && !principal.user.is_admin) throw httpErrors.forbidden();
    }
    setRequestContext(request, { auth });
    return true;
  }
}
