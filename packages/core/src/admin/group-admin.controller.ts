import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { auditEvents } from '../audit/audit-events';
import { AuditLog, entityOf } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { nameProblem, pathProblem } from '../projects/paths';
import { ProjectsService } from '../projects/projects.service';
import { VISIBILITIES } from '../projects/visibility';
import { groupListing } from './group-listing';
import { GroupStore } from './group-store';
import { projectListing } from './project-listing';
import { groupJson, projectJson, projectSimpleJson } from './representations';
import { ResourceAccess } from './resource-access';
import { ResourceRemoval } from './resource-removal';
import { groupContentsVisibilityProblem, subgroupVisibilityProblem } from './visibility-rules';

/** GitLab's group listings, update and delete (create, show, members and settings: GroupsController, GroupMembersController). */
@Controller('api/v4/groups')
export class GroupAdminController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly groups: GroupStore,
    private readonly resources: ResourceAccess,
    private readonly removal: ResourceRemoval,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  @Get()
  @ApiAccess({ anonymous: true })
  async list(
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.listGroups(groupListing(principal, query, { allAvailableByDefault: false }), query, req, reply);
  }

  @Get(':id/subgroups')
  @ApiAccess({ anonymous: true })
  async subgroups(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const group = await this.resources.group(principal, id);
    const listing = groupListing(principal, query, { allAvailableByDefault: true });
    listing.conditions.push({ where: 'g.parent_id = :glParent', params: { glParent: group.id } });
    return this.listGroups(listing, query, req, reply);
  }

  @Get(':id/descendant_groups')
  @ApiAccess({ anonymous: true })
  async descendants(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const group = await this.resources.group(principal, id);
    const listing = groupListing(principal, query, { allAvailableByDefault: true });
    listing.conditions.push({ where: ':glAncestor = ANY(g.traversal_ids) AND g.id <> :glAncestor', params: { glAncestor: group.id } });
    return this.listGroups(listing, query, req, reply);
  }

  private async listGroups(listing: ReturnType<typeof groupListing>, query: unknown, req: FastifyRequest, reply: FastifyReply) {
    const page = pageParams(query);
    const [groups, total] = await this.groups.page(listing.conditions, listing.order, page);
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return groups.map((g) => groupJson(g, this.baseUrl));
  }

  /** The group's projects the caller may see (`include_subgroups` for those of its subgroups too), filtered as GET /projects. */
  @Get(':id/projects')
  @ApiAccess({ anonymous: true })
  async groupProjects(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const group = await this.resources.group(principal, id);
    const listing = projectListing(principal, query);
    const deep = new ApiParams(query, {}).boolean('include_subgroups') ?? false;
    listing.conditions.push(
      deep
        ? { where: ':gpGroup = ANY(n.traversal_ids)', params: { gpGroup: group.id } }
        : { where: 'n.id = :gpGroup', params: { gpGroup: group.id } },
    );
    const page = pageParams(query);
    const [projects, total] = await this.projects.page(listing.conditions, listing.order, page);
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    const json = listing.simple ? projectSimpleJson : projectJson;
    return projects.map((ctx) => json(ctx.project, ctx.namespace, this.baseUrl));
  }

  /** GitLab's rules: Owners only; no more visible than the parent, no less than what it holds. */
  @Put(':id')
  @ApiAccess({ write: true })
  async update(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.OWNER);
    const p = new ApiParams(query, body);
    const patch = {
      name: p.string('name', { max: 255 }),
      path: p.string('path', { max: 255 }),
      description: p.string('description'),
      visibility: p.oneOf('visibility', VISIBILITIES),
    };
    const problems: Record<string, string[]> = {};
    const np = patch.name !== undefined && nameProblem(patch.name);
    const pp = patch.path !== undefined && pathProblem(patch.path);
    if (np) problems.name = [np];
    if (pp) problems.path = [pp];
    if (patch.visibility && patch.visibility !== group.visibility) {
      const parent = group.parent_id === null ? null : await this.projects.findNamespace(group.parent_id);
      const vp =
        subgroupVisibilityProblem(patch.visibility, parent) ??
        groupContentsVisibilityProblem(patch.visibility, await this.groups.contentsVisibility(group.id));
      if (vp) problems.visibility_level = [vp];
    }
    if (!problems.path && patch.path !== undefined && patch.path !== group.path && (await this.groups.holdsPackages(group.id))) {
      // Stowage's rule (GitLab has it for npm): package names and URLs of every format use the group's path.
      problems.path = ['cannot be changed while projects under this group hold packages'];
    }
    if (Object.keys(problems).length) throw httpErrors.validation(problems);
    const updated = await this.groups.update(group, patch);
    if (!updated) throw httpErrors.validation({ path: ['has already been taken'] });
    return groupJson(updated, this.baseUrl);
  }

  /** Owners only: the group, its subgroups and all their projects are gone at once; packages and files go in the background. */
  @Delete(':id')
  @ApiAccess({ write: true })
  @HttpCode(202)
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.OWNER);
    await this.removal.removeNamespace(group.id);
    await this.audit.record(auditEvents.destroyed(entityOf.group(group)));
    return { message: '202 Accepted' };
  }
}
