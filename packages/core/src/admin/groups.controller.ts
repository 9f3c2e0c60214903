import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';

import { entityOf } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import { MembersService } from '../auth/members.service';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { nameProblem, pathFromName, pathProblem } from '../projects/paths';
import { ProjectsService } from '../projects/projects.service';
import { VISIBILITIES } from '../projects/visibility';
import { Memberships } from './memberships';
import { groupJson } from './representations';
import { ResourceAccess } from './resource-access';
import { subgroupVisibilityProblem } from './visibility-rules';

@Controller('api/v4/groups')
export class GroupsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly members: MembersService,
    private readonly resources: ResourceAccess,
    private readonly memberships: Memberships,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Post()
  @ApiAccess({ write: true })
  async create(@Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const p = new ApiParams(query, body);
    const name = p.string('name', { required: true, max: 255 });
    const path = p.string('path', { max: 255 }) ?? pathFromName(name);
    const visibility = p.oneOf('visibility', VISIBILITIES) ?? 'private';
    const parentId = p.integer('parent_id');
    const problems: Record<string, string[]> = {};
    const np = nameProblem(name);
    const pp = pathProblem(path);
    if (np) problems.name = [np];
    if (pp) problems.path = [pp];
    if (Object.keys(problems).length) throw httpErrors.validation(problems);

    const parent = parentId === undefined ? null : await this.resources.group(principal, String(parentId), AccessLevel.MAINTAINER);
    const visibilityProblem = subgroupVisibilityProblem(visibility, parent);
    if (visibilityProblem) throw httpErrors.validation({ visibility_level: [visibilityProblem] });
    const fullPath = parent ? `${parent.full_path}/${path}` : path;
    if (await this.projects.fullPathTaken(fullPath)) throw httpErrors.validation({ path: ['has already been taken'] });
    const group = await this.projects.createNamespace({
      kind: 'group',
      name,
      path,
      parent,
      visibility,
      description: p.string('description'),
    });
    const user = principalUser(principal)!;
    await this.members.add({ type: 'namespace', id: group.id }, user.id, AccessLevel.OWNER, null);
    return groupJson(group, externalBaseUrl(this.config));
  }

  @Get(':id')
  @ApiAccess({ anonymous: true })
  async show(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return groupJson(await this.resources.group(principal, id), externalBaseUrl(this.config));
  }

  @Post(':id/members')
  @ApiAccess({ write: true })
  async addMember(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.addMember({ type: 'namespace', id: group.id }, entityOf.group(group), group.level, query, body);
  }

  @Post(':id/deploy_tokens')
  @ApiAccess({ write: true })
  async createDeployToken(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    // GitLab: group deploy tokens are the Owner's (project ones need Maintainer).
    const group = await this.resources.group(principal, id, AccessLevel.OWNER);
    return this.memberships.createDeployToken({ namespaceId: group.id }, entityOf.group(group), query, body);
  }

  @Delete(':id/deploy_tokens/:token_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async revokeDeployToken(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.OWNER);
    await this.memberships.revokeDeployToken({ namespaceId: group.id }, entityOf.group(group), tokenId);
  }

  @Get(':id/package_settings')
  @ApiAccess()
  async packageSettings(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.packageSettings({ namespaceId: group.id, traversalIds: group.traversal_ids });
  }

  @Put(':id/package_settings')
  @ApiAccess({ write: true })
  async updatePackageSettings(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const group = await this.resources.group(principal, id, AccessLevel.OWNER);
    return this.memberships.updatePackageSettings(
      { namespaceId: group.id, traversalIds: group.traversal_ids },
      entityOf.group(group),
      query,
      body,
    );
  }
}
