import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import type { DataSource, EntityManager } from 'typeorm';

import { redactText } from '../http/log-redaction';
import { currentRequest } from '../http/request-scope';
import type { Namespace } from '../projects/namespace.entity';
import type { Project } from '../projects/project.entity';
import { type AuditAuthor, requestAuthor } from './audit-author';
import type { AuditEntityType } from './audit-event.entity';

/** What an event is about (GitLab's entity). `path` is looked up when not given. */
export interface AuditEntity {
  type: AuditEntityType;
  id: number;
  path?: string;
}

/** What the event acted on within its entity (a token, a member, a package). */
export interface AuditTarget {
  type: string;
  id: number | string;
  details: string;
}

export type AuditDetail = string | number | boolean | null | readonly string[];

export interface AuditRecord {
  /** GitLab's event name where GitLab has the event (`personal_access_token_created`). */
  action: string;
  entity: AuditEntity;
  target?: AuditTarget;
  /** One line a person reads (GitLab's `custom_message`). */
  message: string;
  /** The event's own facts, in GitLab's words where it has them (`add`, `as`, `change`, `from`, `to`, `remove`). */
  details?: Record<string, AuditDetail>;
  /** By default the current request's principal (a job: Stowage itself). */
  author?: AuditAuthor;
  /** By default the request being handled (its address, id and user agent go into the event). */
  request?: FastifyRequest;
}

/** A record resolved against its request, ready to be stored and logged. */
export interface PreparedAudit {
  /** Set once stored. */
  id?: number;
  author_id: number;
  entity_type: AuditEntityType;
  entity_id: number;
  event_name: string;
  details: Record<string, unknown>;
}

export const entityOf = {
  project: (p: Pick<Project, 'id' | 'full_path'>): AuditEntity & { path: string } => ({ type: 'Project', id: p.id, path: p.full_path }),
  group: (g: Pick<Namespace, 'id' | 'full_path'>): AuditEntity & { path: string } => ({ type: 'Group', id: g.id, path: g.full_path }),
  user: (u: { id: number; username: string }): AuditEntity & { path: string } => ({ type: 'User', id: u.id, path: u.username }),
};

const PATH_QUERIES: Record<AuditEntityType, string> = {
  Project: 'SELECT id, full_path AS path FROM projects WHERE id = ANY($1)',
  Group: 'SELECT id, full_path AS path FROM namespaces WHERE id = ANY($1)',
  User: 'SELECT id, username AS path FROM users WHERE id = ANY($1)',
};

/**
 * The audit log: each event is a row of `audit_events` (listed by the audit events API) and a
 * structured log line (`"audit": {…}` through the redacting logger). Who and from where come
 * from the request being handled (`currentRequest()`), so a call site states only what
 * happened: `audit.record({ action, entity, target, message, details })`. Pass `manager` to
 * write the row in the transaction of the change itself.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('audit');

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async record(event: AuditRecord, opts: { manager?: EntityManager } = {}): Promise<void> {
    const prepared = this.prepare(event);
    await this.save([prepared], opts.manager);
    this.log([prepared]);
  }

  /** Resolves author and origin now (while the request is current); `save` and `log` may come later. */
  prepare(event: AuditRecord): PreparedAudit {
    const request = event.request ?? currentRequest();
    const author = event.author ?? requestAuthor(request);
    const userAgent = request?.headers['user-agent'];
    return {
      author_id: author.id,
      entity_type: event.entity.type,
      entity_id: event.entity.id,
      event_name: event.action,
      details: {
        ...event.details,
        event_name: event.action,
        custom_message: event.message,
        author_name: author.name,
        ...(author.username !== undefined ? { author_username: author.username } : {}),
        ...(author.email !== undefined ? { author_email: author.email } : {}),
        ...(author.tokenId !== undefined ? { author_token_id: author.tokenId, authenticated_with: author.tokenKind } : {}),
        ...(event.target ? { target_id: event.target.id, target_type: event.target.type, target_details: event.target.details } : {}),
        ...(event.entity.path !== undefined ? { entity_path: event.entity.path } : {}),
        ip_address: request?.ip ?? null,
        request_id: request?.id ?? null,
        user_agent: typeof userAgent === 'string' ? redactText(userAgent.slice(0, 255)) : null,
      },
    };
  }

  /** Stores prepared events (in `manager`'s transaction when given), filling in entity paths not given. */
  async save(events: PreparedAudit[], manager: EntityManager = this.ds.manager): Promise<void> {
    for (const type of Object.keys(PATH_QUERIES) as AuditEntityType[]) {
      const missing = events.filter((e) => e.entity_type === type && e.details.entity_path === undefined);
      if (!missing.length) continue;
      const rows: { id: number; path: string }[] = await manager.query(PATH_QUERIES[type], [[...new Set(missing.map((e) => e.entity_id))]]);
      const paths = new Map(rows.map((r) => [r.id, r.path]));
      for (const e of missing) e.details.entity_path = paths.get(e.entity_id) ?? null;
    }
    for (const e of events) {
      const [row]: { id: string }[] = await manager.query(
        `INSERT INTO audit_events (author_id, entity_type, entity_id, event_name, details)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [e.author_id, e.entity_type, e.entity_id, e.event_name, JSON.stringify(e.details)],
      );
      e.id = Number(row.id);
    }
  }

  /** One info line per event; the logger redacts it like every other line. */
  log(events: PreparedAudit[]): void {
    for (const e of events) this.logger.log({ audit: e }, `audit: ${e.event_name}`);
  }
}
