import { AccessLevel, MEMBER_ACCESS_LEVELS } from '../auth/access-level';
import { type Principal, principalUser } from '../auth/principal';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import type { SqlCondition } from '../projects/projects.service';
import { VISIBILITIES } from '../projects/visibility';

// GET /projects and GET /groups/:id/projects as GitLab's ProjectsFinder filters them, in SQL over
// projects `p` and namespaces `n`.

/** The user's own highest live membership on `p` (direct or through a group above it); NULL when none. */
export const MEMBER_LEVEL_SQL = `(SELECT max(m.access_level) FROM members m
  WHERE m.user_id = :plUser AND (m.expires_at IS NULL OR m.expires_at >= current_date)
    AND ((m.source_type = 'project' AND m.source_id = p.id)
      OR (m.source_type = 'namespace' AND m.source_id = ANY(n.traversal_ids))))`;

/** Projects the caller may know exist, packages enabled or not (GitLab's `visible_to_user`). */
export function visibleProjects(principal: Principal): SqlCondition {
  switch (principal.kind) {
    case 'anonymous':
      return { where: "p.visibility = 'public'", params: {} };
    case 'deploy':
      return {
        where: "(p.visibility = 'public' OR p.id = :plDeployProject OR :plDeployNamespace = ANY(n.traversal_ids))",
        params: { plDeployProject: principal.token.project_id ?? -1, plDeployNamespace: principal.token.namespace_id ?? -1 },
      };
    case 'job':
    case 'user':
      if (principal.user.is_admin) return { where: 'true', params: {} };
      return {
        where: `(p.visibility IN ('public', 'internal') OR coalesce(${MEMBER_LEVEL_SQL}, 0) >= ${AccessLevel.GUEST})`,
        params: { plUser: principal.user.id },
      };
  }
}

const ORDERS = ['id', 'name', 'path', 'created_at', 'updated_at', 'last_activity_at', 'similarity'] as const;

export interface ProjectListing {
  conditions: SqlCondition[];
  order: { orderBy: 'id' | 'name' | 'path' | 'created_at' | 'updated_at'; sort: 'ASC' | 'DESC' };
  simple: boolean;
}

const escapeLike = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * The filters of a project listing. `owned`, `membership` and `min_access_level` are about the
 * caller's own memberships (an admin's too); for a caller without a user they match nothing.
 * `starred` matches nothing when true: Stowage has no stars. `packages_enabled` is Stowage's own
 * (the web UI lists only projects whose packages are on); GitLab ignores parameters it does not know.
 */
export function projectListing(principal: Principal, query: unknown): ProjectListing {
  const p = new ApiParams(query, {});
  const conditions: SqlCondition[] = [visibleProjects(principal)];
  const user = principalUser(principal);
  const minLevel = p.integer('min_access_level');
  if (minLevel !== undefined && !MEMBER_ACCESS_LEVELS.includes(minLevel)) {
    throw httpErrors.invalidParam('min_access_level', 'does not have a valid value');
  }
  const levels = [
    p.boolean('owned') ? AccessLevel.OWNER : undefined,
    p.boolean('membership') ? AccessLevel.GUEST : undefined,
    minLevel,
  ].filter((l): l is number => l !== undefined);
  if (levels.length) {
    conditions.push(
      user
        ? { where: `coalesce(${MEMBER_LEVEL_SQL}, 0) >= ${Math.max(...levels)}`, params: { plUser: user.id } }
        : { where: 'false', params: {} },
    );
  }
  if (p.boolean('starred')) conditions.push({ where: 'false', params: {} });
  const search = p.string('search', { max: 255 });
  if (search) {
    const fields = ['p.name', 'p.path', 'p.description', ...(p.boolean('search_namespaces') ? ['p.full_path', 'n.name'] : [])];
    conditions.push({
      where: `(${fields.map((f) => `${f} ILIKE :plSearch ESCAPE '\\'`).join(' OR ')})`,
      params: { plSearch: escapeLike(search) },
    });
  }
  const visibility = p.oneOf('visibility', VISIBILITIES);
  if (visibility) conditions.push({ where: 'p.visibility = :plVisibility', params: { plVisibility: visibility } });
  const idAfter = p.integer('id_after');
  if (idAfter !== undefined) conditions.push({ where: 'p.id > :plIdAfter', params: { plIdAfter: idAfter } });
  const idBefore = p.integer('id_before');
  if (idBefore !== undefined) conditions.push({ where: 'p.id < :plIdBefore', params: { plIdBefore: idBefore } });
  const activeAfter = p.date('last_activity_after');
  if (activeAfter) conditions.push({ where: 'p.updated_at > :plActiveAfter', params: { plActiveAfter: activeAfter } });
  const activeBefore = p.date('last_activity_before');
  if (activeBefore) conditions.push({ where: 'p.updated_at < :plActiveBefore', params: { plActiveBefore: activeBefore } });
  const packagesEnabled = p.boolean('packages_enabled');
  if (packagesEnabled !== undefined)
    conditions.push({ where: 'p.packages_enabled = :plPackages', params: { plPackages: packagesEnabled } });

  const orderBy = p.oneOf('order_by', ORDERS) ?? 'created_at';
  const sort = p.oneOf('sort', ['asc', 'desc'] as const) ?? 'desc';
  return {
    conditions,
    // Stowage keeps no separate activity time: a project's last change stands for it.
    // `similarity` (a search ranking) falls back to GitLab's default order.
    order: {
      orderBy: orderBy === 'last_activity_at' ? 'updated_at' : orderBy === 'similarity' ? 'created_at' : orderBy,
      sort: sort === 'asc' ? 'ASC' : 'DESC',
    },
    simple: p.boolean('simple') ?? false,
  };
}
