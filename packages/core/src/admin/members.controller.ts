import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { auditEvents } from '../audit/audit-events';
import { type AuditEntity, AuditLog } from '../audit/audit-log';
import { AccessLevel, MEMBER_ACCESS_LEVELS } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { HttpError, httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { MemberDirectory, type MemberScope } from './member-directory';
import { memberJson } from './representations';
import { ResourceAccess } from './resource-access';

type SourceKind = 'projects' | 'groups';

const auditEntity = (scope: MemberScope): AuditEntity => ({ type: scope.type === 'project' ? 'Project' : 'Group', id: scope.id });

/** ActiveRecord's RecordNotFound, as GitLab's API answers it (`find_by!` on the members). */
const memberNotFound = () => new HttpError(404, { message: '404 Not found' });

function userIdParam(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw httpErrors.invalidParam('user_id');
  return Number(raw);
}

/**
 * GitLab's members API for projects and groups: lists (direct, or `all` with those inherited
 * from groups above), one member, and changing or removing a direct member. Who may: any
 * signed-in caller who can see the source reads; Maintainers change and remove; only Owners
 * give, change or take an Owner's role; a group keeps at least one Owner; anyone may leave.
 * Adding is ProjectsController's and GroupsController's `POST …/members`.
 */
@Controller('api/v4')
export class MembersController {
  constructor(
    private readonly resources: ResourceAccess,
    private readonly directory: MemberDirectory,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  private async source(kind: SourceKind, principal: Principal, id: string): Promise<MemberScope & { level: number }> {
    if (kind === 'projects') {
      const ctx = await this.resources.project(principal, id);
      return { type: 'project', id: ctx.project.id, traversalIds: ctx.namespace.traversal_ids, level: ctx.level };
    }
    const group = await this.resources.group(principal, id);
    return { type: 'namespace', id: group.id, traversalIds: group.traversal_ids, level: group.level };
  }

  private kind(raw: string): SourceKind {
    if (raw !== 'projects' && raw !== 'groups') throw httpErrors.notFound();
    return raw;
  }

  @Get(':source/:id/members')
  @ApiAccess()
  list(
    @Param('source') source: string,
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.listMembers(this.kind(source), id, false, query, principal, req, reply);
  }

  @Get(':source/:id/members/all')
  @ApiAccess()
  listAll(
    @Param('source') source: string,
    @Param('id') id: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.listMembers(this.kind(source), id, true, query, principal, req, reply);
  }

  private async listMembers(
    kind: SourceKind,
    id: string,
    inherited: boolean,
    query: unknown,
    principal: Principal,
    req: FastifyRequest,
    reply: FastifyReply,
  ) {
    const p = new ApiParams(query, {});
    const filter = { query: p.string('query', { max: 255 }), userIds: p.list('user_ids') };
    if (filter.userIds?.some((u) => !/^\d{1,9}$/.test(u))) throw httpErrors.invalidParam('user_ids');
    const page = pageParams(query);
    const scope = await this.source(kind, principal, id);
    const [rows, total] = await this.directory.page(scope, inherited, { query: filter.query, userIds: filter.userIds?.map(Number) }, page);
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return rows.map((r) => memberJson(r, r.user, this.baseUrl));
  }

  @Get(':source/:id/members/all/:user_id')
  @ApiAccess()
  showInherited(
    @Param('source') source: string,
    @Param('id') id: string,
    @Param('user_id') userId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.showMember(this.kind(source), id, userId, true, principal);
  }

  @Get(':source/:id/members/:user_id')
  @ApiAccess()
  show(
    @Param('source') source: string,
    @Param('id') id: string,
    @Param('user_id') userId: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.showMember(this.kind(source), id, userId, false, principal);
  }

  private async showMember(kind: SourceKind, id: string, rawUserId: string, inherited: boolean, principal: Principal) {
    const userId = userIdParam(rawUserId);
    const scope = await this.source(kind, principal, id);
    const row = await this.directory.find(scope, inherited, userId);
    if (!row) throw memberNotFound();
    return memberJson(row, row.user, this.baseUrl);
  }

  @Put(':source/:id/members/:user_id')
  @ApiAccess({ write: true })
  async update(
    @Param('source') source: string,
    @Param('id') id: string,
    @Param('user_id') rawUserId: string,
    @Body() body: unknown,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const kind = this.kind(source);
    const userId = userIdParam(rawUserId);
    const p = new ApiParams(query, body);
    const accessLevel = p.integer('access_level', { required: true });
    if (!MEMBER_ACCESS_LEVELS.includes(accessLevel)) throw httpErrors.invalidParam('access_level', 'does not have a valid value');
    // An empty expires_at clears the end date, as GitLab's form does.
    const expiresAt = p.has('expires_at') && p.string('expires_at') === undefined ? null : p.date('expires_at')?.toISOString().slice(0, 10);
    const scope = await this.source(kind, principal, id);
    if (scope.level < AccessLevel.MAINTAINER) throw httpErrors.forbidden();
    const member = await this.directory.find(scope, false, userId);
    if (!member) throw memberNotFound();
    const touchesOwner = member.access_level >= AccessLevel.OWNER || accessLevel >= AccessLevel.OWNER;
    if (touchesOwner && scope.level < AccessLevel.OWNER) throw httpErrors.forbidden();
    const keepOwner = this.demotesOwner(scope, member.access_level, accessLevel);
    const updated = await this.directory.update(scope, userId, { accessLevel, expiresAt }, { keepOwner });
    if (updated === 'last-owner') throw httpErrors.forbidden();
    if (!updated) throw memberNotFound();
    await this.audit.record(
      auditEvents.memberUpdated(auditEntity(scope), member.user, {
        from: member.access_level,
        to: accessLevel,
        expiresFrom: member.expires_at,
        expiresTo: expiresAt,
      }),
    );
    return memberJson(updated, updated.user, this.baseUrl);
  }

  @Delete(':source/:id/members/:user_id')
  @ApiAccess({ write: true })
  @HttpCode(204)
  async remove(
    @Param('source') source: string,
    @Param('id') id: string,
    @Param('user_id') rawUserId: string,
    @Query() query: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const kind = this.kind(source);
    const userId = userIdParam(rawUserId);
    const skipSubresources = new ApiParams(query, {}).boolean('skip_subresources') ?? false;
    const scope = await this.source(kind, principal, id);
    const leaving = principalUser(principal)?.id === userId;
    if (!leaving && scope.level < AccessLevel.MAINTAINER) throw httpErrors.forbidden();
    const member = await this.directory.find(scope, false, userId);
    if (!member) throw memberNotFound();
    if (!leaving && member.access_level >= AccessLevel.OWNER && scope.level < AccessLevel.OWNER) throw httpErrors.forbidden();
    const keepOwner = this.demotesOwner(scope, member.access_level, 0);
    const removed = await this.directory.remove(scope, userId, { subresources: !skipSubresources, keepOwner });
    if (removed === 'last-owner') throw httpErrors.forbidden();
    if (!removed) throw memberNotFound();
    await this.audit.record(auditEvents.memberDestroyed(auditEntity(scope), member.user, member.access_level));
  }

  /** A group must keep an Owner: taking the role from one is refused (403) when no other Owner, here or above, is left. */
  private demotesOwner(scope: MemberScope, from: number, to: number): boolean {
    return scope.type === 'namespace' && from >= AccessLevel.OWNER && to < AccessLevel.OWNER;
  }
}
