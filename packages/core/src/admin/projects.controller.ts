import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { auditEvents } from '../audit/audit-events';
import { AuditLog, entityOf } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { TokensService } from '../auth/tokens.service';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { nameProblem, pathFromName, pathProblem } from '../projects/paths';
import { ProjectsService } from '../projects/projects.service';
import { VISIBILITIES } from '../projects/visibility';
import { Memberships } from './memberships';
import { projectListing } from './project-listing';
import { projectJson, projectSimpleJson } from './representations';
import { ResourceAccess } from './resource-access';
import { ResourceRemoval } from './resource-removal';
import { projectVisibilityProblem } from './visibility-rules';

const JOB_TOKEN_MAX_SECONDS = 24 * 3600;

@Controller('api/v4/projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly tokens: TokensService,
    private readonly resources: ResourceAccess,
    private readonly memberships: Memberships,
    private readonly removal: ResourceRemoval,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  @Post()
  @ApiAccess({ write: true })
  async create(@Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const user = principalUser(principal)!;
    const p = new ApiParams(query, body);
    const name = p.string('name', { max: 255 }) ?? p.string('path', { required: true, max: 255 });
    const path = p.string('path', { max: 255 }) ?? pathFromName(name);
    const problems: Record<string, string[]> = {};
    const np = nameProblem(name);
    const pp = pathProblem(path);
    if (np) problems.name = [np];
    if (pp) problems.path = [pp];
    if (Object.keys(problems).length) throw httpErrors.validation(problems);
    const visibility = p.oneOf('visibility', VISIBILITIES) ?? 'private';
    const namespaceId = p.integer('namespace_id') ?? user.namespace_id;

    const namespace = await this.projects.findNamespace(namespaceId);
    if (!namespace) throw httpErrors.notFound('Namespace');
    const level = await this.resources.namespaceLevel(principal, namespace);
    const minimum = namespace.kind === 'user' ? AccessLevel.OWNER : AccessLevel.MAINTAINER;
    if (level < minimum) throw namespace.kind === 'user' || level === 0 ? httpErrors.notFound('Namespace') : httpErrors.forbidden();
    const visibilityProblem = projectVisibilityProblem(visibility, namespace);
    if (visibilityProblem) throw httpErrors.validation({ visibility_level: [visibilityProblem] });
    if (await this.projects.fullPathTaken(`${namespace.full_path}/${path}`)) {
      throw httpErrors.validation({ path: ['has already been taken'] });
    }
    const ctx = await this.projects.createProject({
      namespace,
      name,
      path,
      visibility,
      description: p.string('description'),
      packages_enabled: p.boolean('packages_enabled'),
    });
    return projectJson(ctx.project, ctx.namespace, this.baseUrl);
  }

  /**
   * The projects the caller may see, as GitLab lists them (see projectListing for the filters),
   * packages enabled or not: `packages_enabled=true` (Stowage's own) keeps those with packages on.
   */
  @Get()
  @ApiAccess({ anonymous: true })
  async list(
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const listing = projectListing(principal, query);
    const page = pageParams(query);
    const [projects, total] = await this.projects.page(listing.conditions, listing.order, page);
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    const json = listing.simple ? projectSimpleJson : projectJson;
    return projects.map((ctx) => json(ctx.project, ctx.namespace, this.baseUrl));
  }

  /** GitLab's delete: Owners (and admins) only; the project is gone at once, its packages and files in the background. */
  @Delete(':id')
  @ApiAccess({ write: true })
  @HttpCode(202)
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.OWNER);
    await this.removal.removeProject(ctx.project.id);
    await this.audit.record(auditEvents.destroyed(entityOf.project(ctx.project)));
    return { message: '202 Accepted' };
  }

  @Get(':id')
  @ApiAccess({ anonymous: true })
  async show(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id);
    const json = projectJson(ctx.project, ctx.namespace, this.baseUrl);
    if (principal.kind === 'anonymous') return json;
    // GitLab's permissions block; Stowage has one effective level (membership inherited through groups, admins as owners).
    const level = ctx.level > AccessLevel.NONE ? { access_level: ctx.level, notification_level: 3 } : null;
    return { ...json, permissions: { project_access: level, group_access: null } };
  }

  @Put(':id')
  @ApiAccess({ write: true })
  async update(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const p = new ApiParams(query, body);
    const name = p.string('name', { max: 255 });
    if (name !== undefined && nameProblem(name)) throw httpErrors.validation({ name: [nameProblem(name)!] });
    const patch = {
      name,
      description: p.string('description'),
      visibility: p.oneOf('visibility', VISIBILITIES),
      packages_enabled: p.boolean('packages_enabled'),
    };
    const visibilityProblem = patch.visibility && projectVisibilityProblem(patch.visibility, ctx.namespace);
    if (visibilityProblem) throw httpErrors.validation({ visibility_level: [visibilityProblem] });
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const project = Object.keys(defined).length ? await this.projects.updateProject(ctx.project, defined) : ctx.project;
    return projectJson(project, ctx.namespace, this.baseUrl);
  }

  @Post(':id/members')
  @ApiAccess({ write: true })
  async addMember(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.addMember({ type: 'project', id: ctx.project.id }, entityOf.project(ctx.project), ctx.level, query, body);
  }

  @Post(':id/deploy_tokens')
  @ApiAccess({ write: true })
  async createDeployToken(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.createDeployToken({ projectId: ctx.project.id }, entityOf.project(ctx.project), query, body);
  }

  @Get(':id/deploy_tokens')
  @ApiAccess()
  async deployTokens(
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    const page = pageParams(query);
    const active = new ApiParams(query, {}).boolean('active');
    const { tokens, total } = await this.memberships.listDeployTokens({ projectId: ctx.project.id }, page, active);
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return tokens;
  }

  @Delete(':id/deploy_tokens/:token_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async revokeDeployToken(@Param('id') id: string, @Param('token_id') tokenId: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    await this.memberships.revokeDeployToken({ projectId: ctx.project.id }, entityOf.project(ctx.project), tokenId);
  }

  /**
   * Stowage's stand-in for a CI job's CI_JOB_TOKEN: a short-lived token acting as the caller
   * within this project only. A CI system mints one per job and passes it as JOB-TOKEN.
   */
  @Post(':id/job_tokens')
  @ApiAccess({ write: true })
  async createJobToken(@Param('id') id: string, @Body() body: unknown, @Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.DEVELOPER);
    const p = new ApiParams(query, body);
    const seconds = p.integer('expires_in') ?? 3600;
    if (seconds < 1 || seconds > JOB_TOKEN_MAX_SECONDS)
      throw httpErrors.invalidParam('expires_in', `must be between 1 and ${JOB_TOKEN_MAX_SECONDS}`);
    const user = principalUser(principal)!;
    const { token, secret } = await this.tokens.create({
      kind: 'job',
      name: p.string('name', { max: 255 }) ?? 'job',
      scopes: ['read_package_registry', 'write_package_registry'],
      userId: user.id,
      projectId: ctx.project.id,
      expiresAt: new Date(Date.now() + seconds * 1000),
    });
    return { id: token.id, project_id: ctx.project.id, user_id: user.id, expires_at: token.expires_at, token: secret };
  }

  @Get(':id/package_settings')
  @ApiAccess()
  async packageSettings(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.packageSettings({ projectId: ctx.project.id, traversalIds: ctx.namespace.traversal_ids });
  }

  @Put(':id/package_settings')
  @ApiAccess({ write: true })
  async updatePackageSettings(
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const ctx = await this.resources.project(principal, id, AccessLevel.MAINTAINER);
    return this.memberships.updatePackageSettings(
      { projectId: ctx.project.id, traversalIds: ctx.namespace.traversal_ids },
      entityOf.project(ctx.project),
      query,
      body,
    );
  }
}
