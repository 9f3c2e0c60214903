import { Inject, Injectable } from '@nestjs/common';

import { auditEvents } from '../audit/audit-events';
import { type AuditEntity, AuditLog } from '../audit/audit-log';
import { AccessLevel } from '../auth/access-level';
import { type MemberSource, MembersService } from '../auth/members.service';
import { TokensService } from '../auth/tokens.service';
import { UsersService } from '../auth/users.service';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { HttpError, httpErrors } from '../http/http-error';
import type { Page } from '../http/pagination';
import { PackageSettingsService, type SettingsOwner } from '../packages/package-settings.service';
import { FormatRegistry } from '../plugin/format-registry';
import { RequestForwarding } from '../remote/request-forwarding';
import { deployTokenParams } from './deploy-token-params';
import { memberParams } from './member-params';
import { deployTokenJson, memberJson } from './representations';
import { settingsJson, settingsPatch } from './settings-params';

/** What projects and groups share on the admin surface: members, deploy tokens, package settings. */
@Injectable()
export class Memberships {
  constructor(
    private readonly members: MembersService,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly settings: PackageSettingsService,
    private readonly formats: FormatRegistry,
    private readonly forwarding: RequestForwarding,
    private readonly audit: AuditLog,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  async addMember(source: MemberSource, entity: AuditEntity, callerLevel: number, query: unknown, body: unknown) {
    const { userId, accessLevel, expiresAt } = memberParams(query, body);
    if (accessLevel === AccessLevel.OWNER && callerLevel < AccessLevel.OWNER) throw httpErrors.forbidden();
    const user = await this.users.findById(userId);
    if (!user) throw httpErrors.notFound('User');
    const member = await this.members.add(source, userId, accessLevel, expiresAt);
    if (!member) throw new HttpError(409, { message: 'Member already exists' });
    await this.audit.record(auditEvents.memberCreated(entity, user, accessLevel, expiresAt));
    return memberJson(member, user, externalBaseUrl(this.config));
  }

  async createDeployToken(binding: { projectId: number } | { namespaceId: number }, entity: AuditEntity, query: unknown, body: unknown) {
    const p = deployTokenParams(query, body);
    const { token, secret } = await this.tokens.create({
      kind: 'deploy',
      name: p.name,
      scopes: p.scopes,
      expiresAt: p.expiresAt,
      username: p.username ?? null,
      ...('projectId' in binding ? { projectId: binding.projectId } : { namespaceId: binding.namespaceId }),
    });
    if (!p.username) {
      token.username = `gitlab+deploy-token-${token.id}`;
      await this.tokens.update(token, { username: token.username });
    }
    await this.audit.record(auditEvents.tokenCreated(token, entity));
    return deployTokenJson(token, secret);
  }

  /**
   * Deploy tokens, oldest first (never their secrets): a project's, a group's, or with no
   * binding every one (the admin's list). `active` as GitLab: true for live ones only, false
   * for revoked or expired ones only.
   */
  async listDeployTokens(binding: { projectId: number } | { namespaceId: number } | null, page: Page, active?: boolean) {
    const [tokens, total] = await this.tokens.pageQuery((qb) => {
      qb.where("t.kind = 'deploy' AND t.parent_id IS NULL");
      if (binding && 'projectId' in binding) qb.andWhere('t.project_id = :project', { project: binding.projectId });
      if (binding && 'namespaceId' in binding) qb.andWhere('t.namespace_id = :namespace', { namespace: binding.namespaceId });
      if (active === true) qb.andWhere('t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())');
      if (active === false) qb.andWhere('(t.revoked_at IS NOT NULL OR t.expires_at <= now())');
      qb.orderBy('t.id', 'ASC');
    }, page);
    return { tokens: tokens.map((t) => deployTokenJson(t)), total };
  }

  /** One deploy token of a project or group; GitLab's `404 Not found` for any other id. */
  async deployToken(binding: { projectId: number } | { namespaceId: number }, tokenId: string) {
    const token = /^\d{1,9}$/.test(tokenId) ? await this.tokens.findById(Number(tokenId)) : null;
    const bound =
      token?.kind === 'deploy' &&
      token.parent_id === null &&
      ('projectId' in binding ? token.project_id === binding.projectId : token.namespace_id === binding.namespaceId);
    if (!token || !bound) throw new HttpError(404, { message: '404 Not found' });
    return deployTokenJson(token);
  }

  async revokeDeployToken(binding: { projectId: number } | { namespaceId: number }, entity: AuditEntity, tokenId: string) {
    const token = /^\d{1,9}$/.test(tokenId) ? await this.tokens.findById(Number(tokenId)) : null;
    const bound =
      token?.kind === 'deploy' &&
      ('projectId' in binding ? token.project_id === binding.projectId : token.namespace_id === binding.namespaceId);
    if (!token || !bound) throw httpErrors.notFound('Deploy token');
    await this.tokens.revoke(token);
    await this.audit.record(auditEvents.tokenRevoked(token, entity));
  }

  async packageSettings(owner: SettingsOwner) {
    const names = this.formats.names();
    const forwarding = 'namespaceId' in owner ? await this.forwarding.json(owner.namespaceId) : {};
    return {
      ...forwarding,
      ...settingsJson(
        await Promise.all(
          names.map(
            async (f) => [f, await this.settings.effective(owner, f)] as [string, Awaited<ReturnType<PackageSettingsService['effective']>>],
          ),
        ),
      ),
    };
  }

  async updatePackageSettings(owner: SettingsOwner, entity: AuditEntity, query: unknown, body: unknown) {
    // Every parameter is checked before anything is written: a refused request changes nothing.
    const patches = settingsPatch(this.formats.names(), query, body);
    const before: Record<string, unknown> = await this.packageSettings(owner);
    if ('namespaceId' in owner) await this.forwarding.update(owner.namespaceId, query, body);
    for (const [format, patch] of patches) {
      await this.settings.update(owner, format, patch);
    }
    const after: Record<string, unknown> = await this.packageSettings(owner);
    for (const [key, value] of Object.entries(after)) {
      if (JSON.stringify(value) !== JSON.stringify(before[key]))
        await this.audit.record(auditEvents.settingChanged(entity, key, before[key], value));
    }
    return after;
  }
}
