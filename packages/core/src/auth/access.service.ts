import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { AccessCache } from '../database/access-cache';
import { AccessEpoch } from '../database/access-epoch';
import type { Namespace } from '../projects/namespace.entity';
import type { ProjectContext } from '../projects/project-context';
import { AccessLevel } from './access-level';
import type { Principal } from './principal';
import { type PackageAction, scopesAllow } from './scopes';

export interface ProjectPermissions {
  /** The caller may know the project exists. */
  visible: boolean;
  /** The caller's effective member access level (admins count as owners). */
  accessLevel: number;
  /** Role and token binding allow the action (scopes not considered). */
  allows(action: PackageAction): boolean;
  /**
   * The caller may list the project's packages (indexes, the Packages API), not only fetch
   * one it names: as GitLab, a Guest of a non-public project may download but not list.
   */
  mayList: boolean;
  /** The token's scopes allow the action. */
  scopeAllows(action: PackageAction): boolean;
}

/** SQL condition (over projects `p` and namespaces `n`) with its named parameters. */
export interface SqlCondition {
  where: string;
  params: Record<string, unknown>;
}

/** The caller's live memberships on project `p` or a namespace above it (`n`), as `members m`. */
const MEMBERSHIPS = (userParam: string) => `members m
  WHERE m.user_id = :${userParam}
    AND (m.expires_at IS NULL OR m.expires_at >= current_date)
    AND ((m.source_type = 'project' AND m.source_id = p.id)
      OR (m.source_type = 'namespace' AND m.source_id = ANY(n.traversal_ids)))`;

const ACTIVE_MEMBER = (userParam: string, minLevel: number) =>
  `EXISTS (SELECT 1 FROM ${MEMBERSHIPS(userParam)} AND m.access_level >= ${minLevel})`;

/** The caller's highest live membership (NULL when none). */
const MEMBER_LEVEL = (userParam: string) => `(SELECT max(m.access_level) FROM ${MEMBERSHIPS(userParam)})`;

/** `onlyGuest` negated, in SQL over projects `p` and namespaces `n`. */
const NOT_ONLY_GUEST = (userParam: string) =>
  `(p.visibility = 'public' OR coalesce(${MEMBER_LEVEL(userParam)}, 0) <> ${AccessLevel.GUEST})`;

/** A Guest (and nothing more) of a non-public project: may fetch a package, may not list them. */
function onlyGuest(visibility: string, level: number): boolean {
  return visibility !== 'public' && level === AccessLevel.GUEST;
}

const MIN_LEVEL: Record<PackageAction, number> = {
  read: AccessLevel.GUEST,
  write: AccessLevel.DEVELOPER,
  delete: AccessLevel.MAINTAINER,
};

/** A member level, and whether a membership with an end date counted (it lapses with the date: not kept). */
interface Level {
  level: number;
  dated: boolean;
}

/** (user, project or namespace) pairs kept per process. */
const CACHED_LEVELS = 50_000;

@Injectable()
export class AccessService {
  /**
   * Member levels, kept until members (or a project's or namespace's place) change. A level a
   * membership with an end date contributes to is read again each time, as it ends with a date.
   */
  private readonly levels: AccessCache<Level>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    epoch: AccessEpoch,
  ) {
    this.levels = new AccessCache(epoch, ['members', 'projects', 'namespaces'], CACHED_LEVELS);
  }

  /** The highest live membership of a user on a project or any namespace above it. */
  async memberLevel(userId: number, ctx: ProjectContext): Promise<number> {
    const { level } = await this.levels.get(
      `${userId}:p${ctx.project.id}`,
      () =>
        this.level(
          `SELECT coalesce(max(access_level), 0) AS level, coalesce(bool_or(expires_at IS NOT NULL), false) AS dated FROM members
           WHERE user_id = $1 AND (expires_at IS NULL OR expires_at >= current_date)
             AND ((source_type = 'project' AND source_id = $2)
               OR (source_type = 'namespace' AND source_id = ANY($3::int[])))`,
          [userId, ctx.project.id, ctx.namespace.traversal_ids],
        ),
      (l) => !l.dated,
    );
    return level;
  }

  /** The highest live membership of a user on a namespace or any namespace above it. */
  async namespaceMemberLevel(userId: number, namespace: Namespace): Promise<number> {
    const { level } = await this.levels.get(
      `${userId}:n${namespace.id}`,
      () =>
        this.level(
          `SELECT coalesce(max(access_level), 0) AS level, coalesce(bool_or(expires_at IS NOT NULL), false) AS dated FROM members
           WHERE user_id = $1 AND source_type = 'namespace' AND source_id = ANY($2::int[])
             AND (expires_at IS NULL OR expires_at >= current_date)`,
          [userId, namespace.traversal_ids],
        ),
      (l) => !l.dated,
    );
    return level;
  }

  private async level(sql: string, params: unknown[]): Promise<Level> {
    const [row] = await this.ds.query(sql, params);
    return { level: Number(row.level), dated: row.dated === true || row.dated === 't' };
  }

  async projectPermissions(principal: Principal, ctx: ProjectContext): Promise<ProjectPermissions> {
    const { project, namespace } = ctx;
    const isPublic = project.visibility === 'public';
    const scopeAllows = (action: PackageAction) => (principal.kind === 'anonymous' ? true : scopesAllow(principal.token.scopes, action));
    const asAnonymous: ProjectPermissions = {
      visible: isPublic,
      accessLevel: 0,
      allows: (action) => isPublic && action === 'read',
      mayList: isPublic,
      scopeAllows,
    };

    switch (principal.kind) {
      case 'anonymous':
        return asAnonymous;
      case 'deploy': {
        const t = principal.token;
        const bound = t.project_id === project.id || (t.namespace_id !== null && namespace.traversal_ids.includes(t.namespace_id));
        if (!bound) return asAnonymous;
        return { visible: true, accessLevel: 0, allows: (action) => action !== 'delete', mayList: true, scopeAllows };
      }
      case 'job':
      case 'user': {
        const { user } = principal;
        if (principal.kind === 'job' && principal.token.project_id !== project.id) return asAnonymous;
        const level = user.is_admin ? AccessLevel.OWNER : await this.memberLevel(user.id, ctx);
        const visible = isPublic || project.visibility === 'internal' || level >= AccessLevel.GUEST;
        return {
          visible,
          accessLevel: level,
          allows: (action) => visible && (action === 'read' || level >= MIN_LEVEL[action]),
          mayList: visible && !onlyGuest(project.visibility, level),
          scopeAllows,
        };
      }
    }
  }

  /** Projects whose packages the caller may read: see `readableProjects` below. */
  readableProjects(principal: Principal, opts: { listing?: boolean } = {}): SqlCondition {
    return readableProjects(principal, opts);
  }

  /** Whether the caller may know a group exists: it is readable, or holds something readable. */
  async groupVisible(principal: Principal, group: Namespace): Promise<boolean> {
    if (group.visibility === 'public') return true;
    if (principal.kind === 'user' && (principal.user.is_admin || group.visibility === 'internal')) return true;
    if (principal.kind === 'user' || principal.kind === 'job') {
      if ((await this.namespaceMemberLevel(principal.user.id, group)) >= AccessLevel.GUEST) return true;
    }
    if (
      principal.kind === 'deploy' &&
      principal.token.namespace_id !== null &&
      group.traversal_ids.includes(principal.token.namespace_id)
    ) {
      return true;
    }
    const readable = this.readableProjects(principal);
    const [row] = await this.ds
      .createQueryBuilder()
      .select('1', 'one')
      .from('projects', 'p')
      .innerJoin('namespaces', 'n', 'n.id = p.namespace_id')
      .where(':group = ANY(n.traversal_ids)', { group: group.id })
      .andWhere(readable.where, readable.params)
      .limit(1)
      .getRawMany();
    return Boolean(row);
  }
}

/**
 * Projects whose packages the caller may read, for group- and instance-level endpoints:
 * the SQL twin of projectPermissions' `allows('read')`. With `listing`, only those it may
 * also list (`mayList`): for indexes and listings that the project's own endpoint refuses
 * a Guest, so that a group or instance endpoint does not list what the project does not.
 */
export function readableProjects(principal: Principal, opts: { listing?: boolean } = {}): SqlCondition {
  // A project being deleted has no readable packages, wherever they are looked up from.
  const enabled = '(p.packages_enabled AND NOT p.pending_delete)';
  const listable = opts.listing ? ` AND ${NOT_ONLY_GUEST('acUser')}` : '';
  switch (principal.kind) {
    case 'anonymous':
      return { where: `(${enabled} AND p.visibility = 'public')`, params: {} };
    case 'deploy':
      return {
        where: `(${enabled} AND (p.visibility = 'public' OR p.id = :acDeployProject OR :acDeployNamespace = ANY(n.traversal_ids)))`,
        params: { acDeployProject: principal.token.project_id ?? -1, acDeployNamespace: principal.token.namespace_id ?? -1 },
      };
    case 'job':
      return {
        where: `(${enabled} AND (p.visibility = 'public' OR (p.id = :acJobProject AND ${ACTIVE_MEMBER('acUser', AccessLevel.GUEST)}${listable})))`,
        params: { acJobProject: principal.token.project_id ?? -1, acUser: principal.user.id },
      };
    case 'user':
      if (principal.user.is_admin) return { where: enabled, params: {} };
      return {
        where: `(${enabled} AND (p.visibility IN ('public', 'internal') OR ${ACTIVE_MEMBER('acUser', AccessLevel.GUEST)})${listable})`,
        params: { acUser: principal.user.id },
      };
  }
}
