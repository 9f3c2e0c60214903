import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource, SelectQueryBuilder } from 'typeorm';

import { ResourceAccess } from '../admin/resource-access';
import { AccessLevel } from '../auth/access-level';
import { ApiAccess } from '../auth/api-access.guard';
import { type Principal, principalUser } from '../auth/principal';
import { CurrentPrincipal } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { type AuditEntityType, AuditEvent } from './audit-event.entity';

const ENTITY_TYPES = ['User', 'Group', 'Project', 'Gitlab::Audit::InstanceScope'] as const;

/** GitLab's JSON for an audit event (API::Entities::AuditEvent). */
function auditEventJson(e: AuditEvent) {
  return {
    id: Number(e.id),
    author_id: e.author_id,
    entity_id: e.entity_id,
    entity_type: e.entity_type,
    event_name: e.event_name,
    details: e.details,
    created_at: e.created_at,
  };
}

/**
 * GitLab's audit events API: every event for an admin (`GET /audit_events`, filters
 * `created_after`, `created_before`, `entity_type`, `entity_id`); a project's to its
 * Maintainers and Owners, and to its Developers only the events they made themselves; a
 * group's to its Owners, and to its Developers and Maintainers their own (`created_after`,
 * `created_before`). Newest first.
 */
@Controller('api/v4')
export class AuditEventsController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly resources: ResourceAccess,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get('audit_events')
  @ApiAccess({ admin: true })
  async list(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const p = new ApiParams(query, {});
    const entityType = p.oneOf('entity_type', ENTITY_TYPES);
    // As GitLab's `given :entity_type`: entity_id counts only beside an entity_type.
    const entityId = entityType ? p.integer('entity_id') : undefined;
    const qb = this.query(query);
    if (entityType) qb.andWhere('e.entity_type = :entityType', { entityType });
    if (entityId !== undefined) qb.andWhere('e.entity_id = :entityId', { entityId });
    return this.page(qb, query, req, reply);
  }

  @Get('audit_events/:audit_event_id')
  @ApiAccess({ admin: true })
  async show(@Param('audit_event_id') id: string) {
    return this.one(this.ds.getRepository(AuditEvent).createQueryBuilder('e'), id);
  }

  @Get('projects/:id/audit_events')
  @ApiAccess()
  async listProject(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ctx = await this.resources.project(principal, id, AccessLevel.DEVELOPER);
    const qb = this.entity(this.query(query), 'Project', ctx.project.id);
    return this.page(this.ownUnless(qb, principal, ctx.level >= AccessLevel.MAINTAINER), query, req, reply);
  }

  @Get('projects/:id/audit_events/:audit_event_id')
  @ApiAccess()
  async showProject(@Param('id') id: string, @Param('audit_event_id') eventId: string, @CurrentPrincipal() principal: Principal) {
    const ctx = await this.resources.project(principal, id, AccessLevel.DEVELOPER);
    const qb = this.entity(this.ds.getRepository(AuditEvent).createQueryBuilder('e'), 'Project', ctx.project.id);
    return this.one(this.ownUnless(qb, principal, ctx.level >= AccessLevel.MAINTAINER), eventId);
  }

  @Get('groups/:id/audit_events')
  @ApiAccess()
  async listGroup(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const group = await this.resources.group(principal, id, AccessLevel.DEVELOPER);
    const qb = this.entity(this.query(query), 'Group', group.id);
    return this.page(this.ownUnless(qb, principal, group.level >= AccessLevel.OWNER), query, req, reply);
  }

  @Get('groups/:id/audit_events/:audit_event_id')
  @ApiAccess()
  async showGroup(@Param('id') id: string, @Param('audit_event_id') eventId: string, @CurrentPrincipal() principal: Principal) {
    const group = await this.resources.group(principal, id, AccessLevel.DEVELOPER);
    const qb = this.entity(this.ds.getRepository(AuditEvent).createQueryBuilder('e'), 'Group', group.id);
    return this.one(this.ownUnless(qb, principal, group.level >= AccessLevel.OWNER), eventId);
  }

  /** Events within `created_after` … `created_before` (both inclusive, as GitLab's). */
  private query(query: unknown): SelectQueryBuilder<AuditEvent> {
    const p = new ApiParams(query, {});
    const after = p.date('created_after');
    const before = p.date('created_before');
    const qb = this.ds.getRepository(AuditEvent).createQueryBuilder('e').where('true');
    if (after) qb.andWhere('e.created_at >= :after', { after });
    if (before) qb.andWhere('e.created_at <= :before', { before });
    return qb;
  }

  private entity(qb: SelectQueryBuilder<AuditEvent>, type: AuditEntityType, id: number): SelectQueryBuilder<AuditEvent> {
    return qb.andWhere('e.entity_type = :type AND e.entity_id = :entityId', { type, entityId: id });
  }

  /** Below the role that reads every event, GitLab shows a member the events they made. */
  private ownUnless(qb: SelectQueryBuilder<AuditEvent>, principal: Principal, readsAll: boolean): SelectQueryBuilder<AuditEvent> {
    return readsAll ? qb : qb.andWhere('e.author_id = :authorId', { authorId: principalUser(principal)?.id ?? 0 });
  }

  private async page(qb: SelectQueryBuilder<AuditEvent>, query: unknown, req: FastifyRequest, reply: FastifyReply) {
    const page = pageParams(query);
    const [events, total] = await qb.orderBy('e.id', 'DESC').skip(page.offset).take(page.perPage).getManyAndCount();
    setPaginationHeaders(req, reply, page, total, externalBaseUrl(this.config));
    return events.map(auditEventJson);
  }

  private async one(qb: SelectQueryBuilder<AuditEvent>, id: string) {
    const event = /^\d{1,18}$/.test(id) ? await qb.andWhere('e.id = :id', { id }).getOne() : null;
    if (!event) throw httpErrors.notFound('Audit Event');
    return auditEventJson(event);
  }
}
