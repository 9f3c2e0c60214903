import type { Member } from '../auth/member.entity';
import type { Token } from '../auth/token.entity';
import type { User } from '../auth/user.entity';
import type { Namespace } from '../projects/namespace.entity';
import type { Project } from '../projects/project.entity';

// GitLab's REST shapes (the fields scripts and SDKs read).

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);

export function userJson(u: User, baseUrl: string, opts: { admin?: boolean } = {}) {
  return {
    id: u.id,
    username: u.username,
    name: u.name,
    state: u.state,
    avatar_url: null,
    web_url: `${baseUrl}/${u.username}`,
    created_at: u.created_at,
    bot: u.bot,
    ...(opts.admin ? { email: u.email, is_admin: u.is_admin } : {}),
  };
}

export function namespaceJson(n: Namespace, baseUrl: string) {
  return {
    id: n.id,
    name: n.name,
    path: n.path,
    kind: n.kind,
    full_path: n.full_path,
    parent_id: n.parent_id,
    web_url: `${baseUrl}/${n.full_path}`,
  };
}

export function groupJson(g: Namespace, baseUrl: string) {
  return {
    id: g.id,
    name: g.name,
    path: g.path,
    description: g.description,
    visibility: g.visibility,
    full_name: g.full_path.split('/').join(' / '),
    full_path: g.full_path,
    parent_id: g.parent_id,
    web_url: `${baseUrl}/groups/${g.full_path}`,
    created_at: g.created_at,
  };
}

export function projectJson(p: Project, n: Namespace, baseUrl: string) {
  return {
    id: p.id,
    name: p.name,
    path: p.path,
    description: p.description,
    name_with_namespace: `${n.name} / ${p.name}`,
    path_with_namespace: p.full_path,
    visibility: p.visibility,
    packages_enabled: p.packages_enabled,
    namespace: namespaceJson(n, baseUrl),
    web_url: `${baseUrl}/${p.full_path}`,
    created_at: p.created_at,
    last_activity_at: p.updated_at,
  };
}

/** GitLab's `simple=true` project: the basic fields, without permissions or settings. */
export function projectSimpleJson(p: Project, n: Namespace, baseUrl: string) {
  return {
    id: p.id,
    description: p.description,
    name: p.name,
    name_with_namespace: `${n.name} / ${p.name}`,
    path: p.path,
    path_with_namespace: p.full_path,
    created_at: p.created_at,
    tag_list: [],
    topics: [],
    web_url: `${baseUrl}/${p.full_path}`,
    avatar_url: null,
    star_count: 0,
    last_activity_at: p.updated_at,
    namespace: namespaceJson(n, baseUrl),
  };
}

export function memberJson(m: Pick<Member, 'access_level' | 'expires_at' | 'created_at'>, u: User, baseUrl: string) {
  return {
    ...userJson(u, baseUrl),
    access_level: m.access_level,
    expires_at: m.expires_at,
    created_at: m.created_at,
    membership_state: 'active',
  };
}

function expired(t: Token): boolean {
  return t.expires_at !== null && t.expires_at.getTime() <= Date.now();
}

export function personalTokenJson(t: Token, secret?: string) {
  return {
    id: t.id,
    name: t.name,
    revoked: t.revoked_at !== null,
    created_at: t.created_at,
    description: t.description,
    scopes: t.scopes,
    user_id: t.user_id,
    last_used_at: t.last_used_at,
    active: t.revoked_at === null && !expired(t),
    expires_at: day(t.expires_at),
    ...(secret ? { token: secret } : {}),
  };
}

export function deployTokenJson(t: Token, secret?: string) {
  return {
    id: t.id,
    name: t.name,
    username: t.username,
    expires_at: t.expires_at,
    scopes: t.scopes,
    revoked: t.revoked_at !== null,
    expired: expired(t),
    ...(secret ? { token: secret } : {}),
  };
}
