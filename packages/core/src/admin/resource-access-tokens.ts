import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, SelectQueryBuilder } from 'typeorm';

import { auditEvents } from '../audit/audit-events';
import { type AuditEntity, AuditLog } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { Member } from '../auth/member.entity';
import { Token } from '../auth/token.entity';
import { TokensService } from '../auth/tokens.service';
import { User } from '../auth/user.entity';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { HttpError, httpErrors } from '../http/http-error';
import type { Page } from '../http/pagination';
import { ProjectsService } from '../projects/projects.service';
import { personalTokenJson } from './representations';
import { tokenFilters } from './token-filters';

/** The project or group a token belongs to, and the caller's level there (admins count as owners). */
export interface TokenResource {
  kind: 'project' | 'group';
  id: number;
  callerLevel: number;
  callerName: string;
}

/**
 * GitLab's `Gitlab::Auth.resource_bot_scopes`, plus Stowage's package-registry scopes (as its
 * personal tokens have them). Only `api`, `read_api` and the package-registry ones open anything here.
 */
export const RESOURCE_TOKEN_SCOPES = [
  'api',
  'read_api',
  'read_repository',
  'write_repository',
  'read_registry',
  'write_registry',
  'create_runner',
  'manage_runner',
  'ai_features',
  'k8s_proxy',
  'self_rotate',
  'read_package_registry',
  'write_package_registry',
] as const;

/** GitLab's `options_with_owner`: the levels a token's bot may hold. */
const TOKEN_ACCESS_LEVELS = ['10', '15', '20', '30', '40', '50'] as const;
/** GitLab's default lifetime of a new token when `expires_at` is not given (the maximum, a year). */
const DEFAULT_LIFETIME_MS = 365 * 86_400_000;

/** GitLab's ResourceAccessToken entity: a personal token's fields and its bot's access level. */
export function resourceTokenJson(token: Token, accessLevel: number, secret?: string) {
  return { ...personalTokenJson(token, secret), access_level: accessLevel };
}

/**
 * Project and group access tokens: each one a personal token of its own bot user
 * (`project_<id>_bot_<hex>` / `group_<id>_bot_<hex>`, `users.bot`), who is a member of the
 * project or group at the token's access level, so every check that works for a member works
 * for the token. The token row names its project or group (`project_id` / `namespace_id`).
 * Revoking one revokes the token and blocks its bot (GitLab deletes the bot) in one
 * transaction; both tables move the access epoch, so every server refuses it at once.
 */
const auditEntity = (resource: TokenResource): AuditEntity => ({
  type: resource.kind === 'project' ? 'Project' : 'Group',
  id: resource.id,
});

@Injectable()
export class ResourceAccessTokens {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly tokens: TokensService,
    private readonly projects: ProjectsService,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  async page(resource: TokenResource, query: unknown, page: Page) {
    const filters = tokenFilters(query);
    const [tokens, total] = await this.tokens.pageQuery((qb) => {
      this.belongingTo(qb, resource);
      filters(qb);
    }, page);
    const levels = await this.levels(resource, tokens);
    return { tokens: tokens.map((t) => resourceTokenJson(t, levels.get(t.user_id!) ?? 0)), total };
  }

  /** One of the resource's tokens with its bot's level, or null. */
  async find(resource: TokenResource, tokenId: string): Promise<{ token: Token; accessLevel: number } | null> {
    if (!/^\d{1,9}$/.test(tokenId)) return null;
    const qb = this.ds.getRepository(Token).createQueryBuilder('t');
    this.belongingTo(qb, resource);
    const token = await qb.andWhere('t.id = :tokenId', { tokenId: Number(tokenId) }).getOne();
    if (!token) return null;
    const levels = await this.levels(resource, [token]);
    return { token, accessLevel: levels.get(token.user_id!) ?? 0 };
  }

  /** GitLab's ResourceAccessTokens::CreateService: its refusals are 400s with its messages. */
  async create(resource: TokenResource, query: unknown, body: unknown) {
    const p = new ApiParams(query, body);
    const name = p.string('name', { required: true, max: 255 });
    const scopes = p.list('scopes', { required: true, allowed: RESOURCE_TOKEN_SCOPES })!;
    const expiresAt = p.expiry('expires_at') ?? new Date(Date.now() + DEFAULT_LIFETIME_MS);
    const description = p.string('description', { max: 255 }) ?? null;
    const accessLevel = Number(p.oneOf('access_level', TOKEN_ACCESS_LEVELS) ?? AccessLevel.MAINTAINER);

    if (resource.callerLevel < this.manageLevel(resource)) {
      throw httpErrors.badRequest(`User does not have permission to create ${resource.kind} access token`);
    }
    if (accessLevel === AccessLevel.OWNER && resource.callerLevel < AccessLevel.OWNER)
      throw httpErrors.badRequest('Could not provide owner access');
    if (accessLevel > resource.callerLevel) {
      throw httpErrors.badRequest("Access level of the token can't be greater the access level of the user who created the token");
    }

    const created = await this.ds.transaction(async (m) => {
      const username = `${resource.kind}_${resource.id}_bot_${randomBytes(16).toString('hex')}`;
      const namespace = await this.projects.createNamespace({ kind: 'user', name, path: username, visibility: 'private' }, m);
      const bot = await m.getRepository(User).save(
        m.getRepository(User).create({
          username,
          name,
          email: `${username}@noreply.${new URL(externalBaseUrl(this.config)).hostname}`,
          is_admin: false,
          state: 'active',
          bot: true,
          namespace_id: namespace.id,
        }),
      );
      await m.getRepository(Member).save([
        { user_id: bot.id, source_type: 'namespace', source_id: namespace.id, access_level: AccessLevel.OWNER, expires_at: null },
        {
          user_id: bot.id,
          source_type: resource.kind === 'project' ? 'project' : 'namespace',
          source_id: resource.id,
          access_level: accessLevel,
          expires_at: null,
        },
      ]);
      return this.tokens.create(
        {
          kind: 'personal',
          name,
          scopes,
          userId: bot.id,
          description,
          expiresAt,
          ...(resource.kind === 'project' ? { projectId: resource.id } : { namespaceId: resource.id }),
        },
        m,
      );
    });
    await this.audit.record(auditEvents.accessToken('created', created.token, auditEntity(resource)));
    return resourceTokenJson(created.token, accessLevel, created.secret);
  }

  /** GitLab's ResourceAccessTokens::RevokeService. */
  async revoke(resource: TokenResource, found: { token: Token; accessLevel: number }): Promise<void> {
    if (resource.callerLevel < this.manageLevel(resource)) {
      const bot = await this.ds.getRepository(User).findOneBy({ id: found.token.user_id! });
      throw httpErrors.badRequest(`${resource.callerName} cannot delete ${bot?.name ?? found.token.name}`);
    }
    await this.ds.transaction(async (m) => {
      await this.tokens.revoke(found.token, m);
      await m.query("UPDATE users SET state = 'blocked' WHERE id = $1 AND bot", [found.token.user_id]);
      await this.audit.record(auditEvents.accessToken('revoked', found.token, auditEntity(resource)), { manager: m });
    });
  }

  /** GitLab's Project/GroupAccessTokens::RotateService: same bot, new secret, the old one revoked at once. */
  async rotate(resource: TokenResource, found: { token: Token; accessLevel: number }, expiresAt: Date) {
    if (found.accessLevel > resource.callerLevel) {
      throw httpErrors.badRequest('Not eligible to rotate token with access level higher than the user');
    }
    const rotated = await this.tokens.rotate(found.token, expiresAt);
    if (!rotated) throw httpErrors.badRequest('token already revoked');
    await this.audit.record(auditEvents.accessToken('rotated', found.token, auditEntity(resource), rotated.token));
    return resourceTokenJson(rotated.token, found.accessLevel, rotated.secret);
  }

  /** Who may read and manage a resource's tokens: a project's Maintainers, a group's Owners. */
  manageLevel(resource: TokenResource): number {
    return resource.kind === 'project' ? AccessLevel.MAINTAINER : AccessLevel.OWNER;
  }

  private belongingTo(qb: SelectQueryBuilder<Token>, resource: TokenResource): void {
    qb.where("t.kind = 'personal' AND t.parent_id IS NULL");
    if (resource.kind === 'project') qb.andWhere('t.project_id = :resource', { resource: resource.id });
    else qb.andWhere('t.namespace_id = :resource', { resource: resource.id });
  }

  /** Each bot's level on the resource (its membership there). */
  private async levels(resource: TokenResource, tokens: Token[]): Promise<Map<number, number>> {
    const ids = tokens.map((t) => t.user_id!).filter((id) => id !== null);
    if (!ids.length) return new Map();
    const rows: { user_id: number; access_level: number }[] = await this.ds.query(
      'SELECT user_id, access_level FROM members WHERE source_type = $1 AND source_id = $2 AND user_id = ANY($3::int[])',
      [resource.kind === 'project' ? 'project' : 'namespace', resource.id, ids],
    );
    return new Map(rows.map((r) => [Number(r.user_id), Number(r.access_level)]));
  }
}

export function tokenNotFound(kind: TokenResource['kind'], tokenId: string): HttpError {
  return httpErrors.notFound(`Could not find ${kind} access token with token_id: ${tokenId}`);
}
