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

type TokenChange = 'created' | 'revoked' | 'rotated';
type TokenType = { event: string; type: string; label: string };

function tokenEvent(token: Token, entity: AuditEntity, what: TokenChange, extra: AuditRecord['details'] = {}, as?: TokenType): AuditRecord {
  const kind = as ?? TOKEN_TYPES[token.kind] ?? { event: `${token.kind}_token`, type: 'Token', label: `${token.kind} token` };
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

  /** A project's or group's access token (its bot user's token): `entity` is the project or group. */
  accessToken: (what: TokenChange, token: Token, entity: AuditEntity, replacement?: Token) =>
    tokenEvent(
      token,
      entity,
      what,
      replacement ? { new_token_id: replacement.id, new_expires_at: replacement.expires_at?.toISOString() ?? null } : {},
      {
        event: `${entity.type.toLowerCase()}_access_token`,
        type: entity.type === 'Group' ? 'GroupAccessToken' : 'ProjectAccessToken',
        label: `${entity.type.toLowerCase()} access token`,
      },
    ),

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

  /** A package protection rule created, changed (`changes`: setting → [from, to]) or deleted, on its project. */
  protectionRule: (
    what: 'created' | 'updated' | 'deleted',
    entity: AuditEntity,
    rule: { id: number; package_name_pattern: string; package_type: string },
    changes: Record<string, [unknown, unknown]> = {},
  ): AuditRecord => ({
    action: `package_protection_rule_${what}`,
    entity,
    target: { type: 'Packages::Protection::Rule', id: rule.id, details: `${rule.package_type} ${rule.package_name_pattern}` },
    message: `${what[0].toUpperCase()}${what.slice(1)} package protection rule for ${rule.package_type} ${rule.package_name_pattern}`,
    details: {
      package_name_pattern: rule.package_name_pattern,
      package_type: rule.package_type,
      ...Object.fromEntries(
        Object.entries(changes).flatMap(([k, [from, to]]) => [
          [`${k}_from`, JSON.stringify(from ?? null)],
          [`${k}_to`, JSON.stringify(to ?? null)],
        ]),
      ),
    },
  }),

  /** One event per cleanup policy setting whose value changed. */
  cleanupPolicyChanged: (entity: AuditEntity, setting: string, from: unknown, to: unknown): AuditRecord => ({
    action: 'packages_cleanup_policy_updated',
    entity,
    target: { type: 'Packages::Cleanup::Policy', id: entity.id, details: setting },
    message: `Changed cleanup policy ${setting} from ${JSON.stringify(from)} to ${JSON.stringify(to)}`,
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
