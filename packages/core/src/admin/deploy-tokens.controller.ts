import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { Memberships } from './memberships';
import { ResourceAccess } from './resource-access';

/**
 * GitLab's deploy token reads (lib/api/deploy_tokens.rb) beyond the project's list, create and
 * delete (ProjectsController, GroupsController): every token for an admin, one project token,
 * and a group's. Project and group ones need Maintainer, as GitLab's docs say.
 */
@Controller('api/v4')
export class DeployTokensController {
  constructor(
    private readonly resources: ResourceAccess,
    private readonly memberships: Memberships,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get('deploy_tokens')
  @ApiAccess({ admin: true })
  async all(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const active = new ApiParams(query, {}).boolean('active');
    const page = pageParams(query);
    const { tokens, total } = await this.memberships.listDeployTokens(null, page, active);
    setPaginationHeaders(req, reply, page, total, externalBaseUrl(this.config));
    return tokens;
  }

  @Get('projects/:id/deploy_tokens/:token_id')
  @ApiAccess()
  async projectToken(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.deployToken({ projectId: ctx.project.id }, tokenId);
  }

  @Get('groups/:id/deploy_tokens')
  @ApiAccess()
  async groupTokens(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const group = await this.resources.group(principal, id, AccessLevel.MAINTAINER);
    const active = new ApiParams(query, {}).boolean('active');
    const page = pageParams(query);
    const { tokens, total } = await this.memberships.listDeployTokens({ namespaceId: group.id }, page, active);
    setPaginationHeaders(req, reply, page, total, externalBaseUrl(this.config));
    return tokens;
  }

  @Get('groups/:id/deploy_tokens/:token_id')
  @ApiAccess()
  async groupToken(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.deployToken({ namespaceId: group.id }, tokenId);
  }
}
