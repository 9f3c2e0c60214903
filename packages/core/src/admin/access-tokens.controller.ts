import { Body, Controller, Delete, Get, HttpCode, Inject, Injectable, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { ResourceAccess } from './resource-access';
import { ResourceAccessTokens, resourceTokenJson, tokenNotFound, type TokenResource } from './resource-access-tokens';
import { rotationExpiry } from './token-rotation';

type Kind = TokenResource['kind'];

/**
 * GitLab's project and group access tokens API (lib/api/resource_access_tokens.rb), one set of
 * routes for both: `/projects/:id/access_tokens…` and `/groups/:id/access_tokens…`. Its
 * statuses as GitLab's: 404 for a project or group the caller may not see, 401 to read or
 * rotate without the role, 400 with CreateService's and RevokeService's messages otherwise.
 */
@Injectable()
abstract class AccessTokenRoutes {
  protected abstract readonly kind: Kind;

  constructor(
    private readonly resources: ResourceAccess,
    private readonly accessTokens: ResourceAccessTokens,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get(':id/access_tokens')
  @ApiAccess()
  async list(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const resource = await this.readable(principal, id);
    const page = pageParams(query);
    const { tokens, total } = await this.accessTokens.page(resource, query, page);
    setPaginationHeaders(req, reply, page, total, externalBaseUrl(this.config));
    return tokens;
  }

  @Get(':id/access_tokens/:token_id')
  @ApiAccess()
  async show(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const resource = await this.readable(principal, id);
    const found = await this.accessTokens.find(resource, tokenId);
    if (!found) throw tokenNotFound(resource.kind, tokenId);
    return resourceTokenJson(found.token, found.accessLevel);
  }

  @Post(':id/access_tokens')
  @ApiAccess({ write: true })
  async create(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    return this.accessTokens.create(await this.resource(principal, id), query, body);
  }

  @Delete(':id/access_tokens/:token_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async revoke(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const resource = await this.resource(principal, id);
    const found = await this.accessTokens.find(resource, tokenId);
    if (!found) throw tokenNotFound(resource.kind, tokenId);
    await this.accessTokens.revoke(resource, found);
  }

  @Post(':id/access_tokens/:token_id/rotate')
  @ApiAccess({ write: true })
  @HttpCode(200)
  async rotate(
    @Param('id') id: string,
    @Param('token_id') tokenId: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const resource = await this.resource(principal, id);
    const expiresAt = rotationExpiry(query, body);
    const found = resource.callerLevel >= this.accessTokens.manageLevel(resource) ? await this.accessTokens.find(resource, tokenId) : null;
    // As GitLab: only an admin learns that a token does not exist.
    if (!found) throw principalUser(principal)?.is_admin ? httpErrors.notFound() : httpErrors.unauthorized();
    return this.accessTokens.rotate(resource, found, expiresAt);
  }

  /** The project or group (404 when the caller may not see it) and the caller's level there. */
  private async resource(principal: Principal, id: string): Promise<TokenResource> {
    const user = principalUser(principal)!;
    const tokenKind = this.kind;
    if (tokenKind === 'project') {
      const ctx = await this.resources.project(principal, id);
      return { kind: tokenKind, id: ctx.project.id, callerLevel: ctx.level, callerName: user.name };
    }
    const group = await this.resources.group(principal, id);
    return { kind: tokenKind, id: group.id, callerLevel: group.level, callerName: user.name };
  }

  /** As `resource`, and 401 (GitLab's answer) unless the caller may read the tokens. */
  private async readable(principal: Principal, id: string): Promise<TokenResource> {
    const resource = await this.resource(principal, id);
    if (resource.callerLevel < this.accessTokens.manageLevel(resource)) throw httpErrors.unauthorized();
    return resource;
  }
}

@Controller('api/v4/projects')
export class ProjectAccessTokensController extends AccessTokenRoutes {
  protected readonly kind = 'project';
}

@Controller('api/v4/groups')
export class GroupAccessTokensController extends AccessTokenRoutes {
  protected readonly kind = 'group';
}
