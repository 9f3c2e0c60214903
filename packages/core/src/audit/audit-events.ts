import type { Token } from '../auth/token.entity';
import type { AuditEntity, AuditRecord } from './audit-log';

// The events Stowage records, built in one place so each call site is one line:
// `await this.audit.record(auditEvents.tokenCreated(token, entity))`. Names are GitLab's
// audit event types where it has one.

const ROLE_NAMES: Record<number, string> = {
  5: 'Minimal Access',
  10: 'Guest',
  15: 'Planner',
  20: 'Reporter',
  30: 'Developer',
  40: 'Maintainer',
  50: 'Owner',
};

export const roleName = (level: number) => ROLE_NAMES[level] ?? `Custom (${level})`;

const TOKEN_TYPES: Record<string, { event: string; type: string; label: string }> = {
  personal: { event: 'personal_access_token', type: 'PersonalAccessToken', label: 'personal access token' },
  deploy: { event: 'deploy_token', type: 'DeployToken', label: 'deploy token' },
  job: { event: 'job_token', type: 'Ci::JobToken', label: 'job token' },
};

function tokenEvent(token: Token, entity: AuditEntity, what: 'created' | 'revoked' | 'rotated', extra: AuditRecord['details'] = {}): AuditRecord {
  const kind = TOKEN_TYPES[token.kind] ?? { event: `${token.kind}_token`, type: 'Token', label: `${token.kind} token` };
  return {
    action: `${kind.event}_${what}`,
    entity,
    target: { type: kind.type, id: token.id, details: token.name },
    message: `${what[0].toUpperCase()}${what.slice(1)} ${kind.label} ${JSON.stringify(token.name)}`,
    details: {
      token_id: token.id,
      token_name: token.name,
      scopes: token.scopes,
      expires_at: token.expires_at ? token.expires_at.toISOString() : null,
      ...extra,
    },
  };
}

export const auditEvents = {
  tokenCreated: (token: Token, entity: AuditEntity) => tokenEvent(token, entity, 'created'),
  tokenRevoked: (token: Token, entity: AuditEntity) => tokenEvent(token, entity, 'revoked'),
  /** `replacement` is the new token (its id; never its secret). */
  tokenRotated: (token: Token, replacement: Token, entity: AuditEntity) =>
    tokenEvent(token, entity, 'rotated', { new_token_id: replacement.id, new_expires_at: replacement.expires_at?.toISOString() ?? null }),

  memberCreated: (entity: AuditEntity, user: { id: number; username: string }, level: number, expiresAt: string | null): AuditRecord => ({
    action: 'member_created',
    entity,
    target: { type: 'User', id: user.id, details: user.username },
    message: `Added ${user.username} as ${roleName(level)}`,
    details: { add: 'user_access', as: roleName(level), expiry_to: expiresAt },
  }),
  memberUpdated: (
    entity: AuditEntity,
    user: { id: number; username: string },
    change: { from: number; to: number; expiresFrom?: string | null; expiresTo?: string | null },
  ): AuditRecord => ({
    action: 'member_updated',
    entity,
    target: { type: 'User', id: user.id, details: user.username },
    message: `Changed ${user.username}'s access from ${roleName(change.from)} to ${roleName(change.to)}`,
    details: {
      change: 'access_level',
      from: roleName(change.from),
      to: roleName(change.to),
      ...(change.expiresTo !== undefined ? { expiry_from: change.expiresFrom ?? null, expiry_to: change.expiresTo } : {}),
    },
  }),
  memberDestroyed: (entity: AuditEntity, user: { id: number; username: string }, level: number): AuditRecord => ({
    action: 'member_destroyed',
    entity,
    target: { type: 'User', id: user.id, details: user.username },
    message: `Removed ${user.username} (${roleName(level)})`,
    details: { remove: 'user_access', as: roleName(level) },
  }),

  /** One event per setting whose value changed (`change`, `from`, `to`, as GitLab audits an attribute). */
  settingChanged: (entity: AuditEntity, setting: string, from: unknown, to: unknown): AuditRecord => ({
    action: 'package_settings_updated',
    entity,
    target: { type: 'Namespace::PackageSetting', id: entity.id, details: setting },
    message: `Changed ${setting} from ${JSON.stringify(from)} to ${JSON.stringify(to)}`,
    details: { change: setting, from: JSON.stringify(from ?? null), to: JSON.stringify(to ?? null) },
  }),

  /** A project, group or user deleted; `entity` is what was deleted. */
  destroyed: (entity: AuditEntity & { path: string }): AuditRecord => ({
    action: `${entity.type.toLowerCase()}_destroyed`,
    entity,
    target: { type: entity.type, id: entity.id, details: entity.path },
    message: `Deleted ${entity.type.toLowerCase()} ${entity.path}`,
  }),
};
