import { AccessLevel, MEMBER_ACCESS_LEVELS } from '../auth/access-level';
import { type Principal, principalUser } from '../auth/principal';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import type { SqlCondition } from '../projects/projects.service';
import { VISIBILITIES } from '../projects/visibility';

// GET /groups, /groups/:id/subgroups and /groups/:id/descendant_groups as GitLab's GroupsFinder
// filters them, in SQL over namespaces `g` (groups only; those being deleted never show).

/** The user's own highest live membership on group `g` or a group above it; NULL when none. */
const GROUP_LEVEL_SQL = `(SELECT max(m.access_level) FROM members m
  WHERE m.user_id = :glUser AND (m.expires_at IS NULL OR m.expires_at >= current_date)
    AND m.source_type = 'namespace' AND m.source_id = ANY(g.traversal_ids))`;

/** A project under `g` the user is a member of (which makes `g` visible to them, as GitLab shows a project's ancestors). */
const HOLDS_MEMBER_PROJECT_SQL = `EXISTS (SELECT 1 FROM projects p JOIN namespaces n ON n.id = p.namespace_id
  JOIN members m ON m.source_type = 'project' AND m.source_id = p.id
  WHERE g.id = ANY(n.traversal_ids) AND NOT p.pending_delete AND m.user_id = :glUser
    AND (m.expires_at IS NULL OR m.expires_at >= current_date))`;

/** Groups the caller may know exist (AccessService.groupVisible, in SQL). */
export function visibleGroups(principal: Principal): SqlCondition {
  const user = principalUser(principal);
  if (!user) return { where: "g.visibility = 'public'", params: {} };
  if (user.is_admin) return { where: 'true', params: {} };
  return {
    where: `(g.visibility IN ('public', 'internal') OR coalesce(${GROUP_LEVEL_SQL}, 0) >= ${AccessLevel.GUEST} OR ${HOLDS_MEMBER_PROJECT_SQL})`,
    params: { glUser: user.id },
  };
}

export interface GroupListing {
  conditions: SqlCondition[];
  order: { orderBy: 'id' | 'name' | 'path'; sort: 'ASC' | 'DESC' };
}

const escapeLike = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * `allAvailableByDefault`: GET /groups lists a non-admin's own groups unless `all_available=true`
 * (GitLab's default: true for admins, false for others, anonymous callers see public groups);
 * subgroup listings show every visible group.
 */
export function groupListing(principal: Principal, query: unknown, opts: { allAvailableByDefault: boolean }): GroupListing {
  const p = new ApiParams(query, {});
  const user = principalUser(principal);
  const conditions: SqlCondition[] = [visibleGroups(principal)];
  const allAvailable = p.boolean('all_available') ?? (opts.allAvailableByDefault || !!user?.is_admin);
  if (user && !allAvailable) {
    conditions.push({
      where: `(coalesce(${GROUP_LEVEL_SQL}, 0) >= ${AccessLevel.GUEST} OR ${HOLDS_MEMBER_PROJECT_SQL})`,
      params: { glUser: user.id },
    });
  }
  const minLevel = p.integer('min_access_level');
  if (minLevel !== undefined && !MEMBER_ACCESS_LEVELS.includes(minLevel)) {
    throw httpErrors.invalidParam('min_access_level', 'does not have a valid value');
  }
  const level = Math.max(p.boolean('owned') ? AccessLevel.OWNER : 0, minLevel ?? 0);
  if (level) {
    conditions.push(
      user ? { where: `coalesce(${GROUP_LEVEL_SQL}, 0) >= ${level}`, params: { glUser: user.id } } : { where: 'false', params: {} },
    );
  }
  if (p.boolean('top_level_only')) conditions.push({ where: 'g.parent_id IS NULL', params: {} });
  const skip = p.list('skip_groups');
  if (skip) {
    if (skip.some((id) => !/^\d{1,9}$/.test(id))) throw httpErrors.invalidParam('skip_groups');
    conditions.push({ where: 'NOT (g.id = ANY(:glSkip))', params: { glSkip: skip.map(Number) } });
  }
  const search = p.string('search', { max: 255 });
  if (search)
    conditions.push({
      where: "(g.name ILIKE :glSearch ESCAPE '\\' OR g.path ILIKE :glSearch ESCAPE '\\')",
      params: { glSearch: escapeLike(search) },
    });
  const visibility = p.oneOf('visibility', VISIBILITIES);
  if (visibility) conditions.push({ where: 'g.visibility = :glVisibility', params: { glVisibility: visibility } });
  const orderBy = p.oneOf('order_by', ['name', 'path', 'id', 'similarity'] as const) ?? 'name';
  const sort = p.oneOf('sort', ['asc', 'desc'] as const) ?? 'asc';
  // `similarity` ranks search matches; without a ranking, GitLab's default order stands.
  return { conditions, order: { orderBy: orderBy === 'similarity' ? 'name' : orderBy, sort: sort === 'asc' ? 'ASC' : 'DESC' } };
}
