import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { AccessLevel } from '../auth/access-level';
import type { User } from '../auth/user.entity';
import type { Page } from '../http/pagination';

/** Whose members: a project (with its namespace's ancestry) or a group (with its own). */
export interface MemberScope {
  type: 'project' | 'namespace';
  id: number;
  /** The namespaces whose members are inherited: the project's namespace and those above it, or the group and those above it. */
  traversalIds: number[];
}

export interface MemberRow {
  user: User;
  access_level: number;
  expires_at: string | null;
  created_at: Date;
}

export interface MemberFilter {
  query?: string;
  userIds?: number[];
}

const LIVE = '(m.expires_at IS NULL OR m.expires_at >= current_date)';

/** The user columns a member row carries, under `u_` names. */
const USER_COLUMNS =
  'u.id AS u_id, u.username AS u_username, u.name AS u_name, u.email AS u_email, u.is_admin AS u_is_admin, u.state AS u_state, u.namespace_id AS u_namespace_id, u.created_at AS u_created_at, u.updated_at AS u_updated_at';

function toRow(r: Record<string, unknown>): MemberRow {
  const user = {
    id: r.u_id,
    username: r.u_username,
    name: r.u_name,
    email: r.u_email,
    is_admin: r.u_is_admin,
    state: r.u_state,
    namespace_id: r.u_namespace_id,
    created_at: new Date(r.u_created_at as string),
    updated_at: new Date(r.u_updated_at as string),
  } as User;
  const expires = r.expires_at as string | Date | null;
  return {
    user,
    access_level: Number(r.access_level),
    expires_at: expires instanceof Date ? expires.toISOString().slice(0, 10) : expires,
    created_at: new Date(r.created_at as string),
  };
}

/**
 * GitLab's member listings: a source's direct members, or (`all`) everyone with a live
 * membership on it or on a group above it, each user once at their highest level.
 */
@Injectable()
export class MemberDirectory {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The memberships `all` counts, as `SELECT … FROM members m WHERE …` conditions with $1 = source id, $2 = ancestry. */
  private sourceCondition(scope: MemberScope, inherited: boolean): string {
    const direct = `(m.source_type = '${scope.type}' AND m.source_id = $1)`;
    return inherited ? `(${direct} OR (m.source_type = 'namespace' AND m.source_id = ANY($2::int[])))` : direct;
  }

  async page(scope: MemberScope, inherited: boolean, filter: MemberFilter, page: Page): Promise<[MemberRow[], number]> {
    // $2 only where it is used: Postgres cannot type a parameter no clause mentions.
    const params: unknown[] = inherited ? [scope.id, scope.traversalIds] : [scope.id];
    const where: string[] = [];
    if (filter.query) {
      params.push(`%${filter.query.replace(/[\\%_]/g, '\\$&')}%`);
      where.push(`(u.username ILIKE $${params.length} ESCAPE '\\' OR u.name ILIKE $${params.length} ESCAPE '\\')`);
    }
    if (filter.userIds) {
      params.push(filter.userIds);
      where.push(`u.id = ANY($${params.length}::int[])`);
    }
    const from = `
      WITH best AS (
        SELECT DISTINCT ON (m.user_id) m.user_id, m.access_level, m.expires_at, m.created_at, m.id
        FROM members m WHERE ${this.sourceCondition(scope, inherited)} AND ${LIVE}
        ORDER BY m.user_id, m.access_level DESC, m.id
      )
      SELECT %s FROM best JOIN users u ON u.id = best.user_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const rows: Record<string, unknown>[] = await this.ds.query(
      `${from.replace('%s', `best.access_level, best.expires_at, best.created_at, ${USER_COLUMNS}`)}
       ORDER BY ${inherited ? 'u.id' : 'best.id'} LIMIT ${page.perPage} OFFSET ${page.offset}`,
      params,
    );
    const [{ total }] = await this.ds.query(from.replace('%s', 'count(*) AS total'), params);
    return [rows.map(toRow), Number(total)];
  }

  async find(scope: MemberScope, inherited: boolean, userId: number): Promise<MemberRow | null> {
    const [rows] = await this.page(scope, inherited, { userIds: [userId] }, { page: 1, perPage: 1, offset: 0 });
    return rows[0] ?? null;
  }

  /**
   * Changes a direct membership; returns it as listed, null when the user is no direct member,
   * or 'last-owner' (nothing changed) when `keepOwner` and it would leave the group without one.
   */
  async update(
    scope: MemberScope,
    userId: number,
    patch: { accessLevel: number; expiresAt?: string | null },
    opts: { keepOwner: boolean },
  ): Promise<MemberRow | null | 'last-owner'> {
    const params: unknown[] = [scope.type, scope.id, userId, patch.accessLevel];
    const sets = ['access_level = $4', 'updated_at = now()'];
    if (patch.expiresAt !== undefined) sets.push(`expires_at = $${params.push(patch.expiresAt)}`);
    const outcome = await this.ds.transaction(async (m) => {
      if (opts.keepOwner && (await this.lastOwner(m, scope, userId))) return 'last-owner' as const;
      const [, count] = await m.query(
        `UPDATE members SET ${sets.join(', ')} WHERE source_type = $1 AND source_id = $2 AND user_id = $3`,
        params,
      );
      return count ? ('updated' as const) : null;
    });
    return outcome === 'updated' ? this.find(scope, false, userId) : outcome;
  }

  /**
   * Whether no active user but `userId` holds a live Owner membership of the group or one above
   * it. Those rows stay locked until the transaction ends, so two Owners removed at the same
   * time cannot both pass the check.
   */
  private async lastOwner(m: EntityManager, scope: MemberScope, userId: number): Promise<boolean> {
    const owners: { user_id: number; state: string }[] = await m.query(
      `SELECT m.user_id, u.state FROM members m JOIN users u ON u.id = m.user_id
       WHERE m.source_type = 'namespace' AND m.source_id = ANY($1::int[]) AND m.access_level >= ${AccessLevel.OWNER} AND ${LIVE}
       FOR UPDATE OF m`,
      [scope.traversalIds],
    );
    return !owners.some((o) => o.user_id !== userId && o.state === 'active');
  }

  /**
   * Removes a direct membership, and with `subresources` (a group's) the user's memberships of
   * every group and project below it, as GitLab does. Returns whether there was one, or
   * 'last-owner' (nothing removed) when `keepOwner` and it would leave the group without one.
   */
  async remove(scope: MemberScope, userId: number, opts: { subresources: boolean; keepOwner: boolean }): Promise<boolean | 'last-owner'> {
    return this.ds.transaction(async (m) => {
      if (opts.keepOwner && (await this.lastOwner(m, scope, userId))) return 'last-owner' as const;
      const [, count] = await m.query('DELETE FROM members WHERE source_type = $1 AND source_id = $2 AND user_id = $3', [
        scope.type,
        scope.id,
        userId,
      ]);
      if (!count) return false;
      if (scope.type === 'namespace' && opts.subresources) {
        await m.query(
          `DELETE FROM members mm WHERE mm.user_id = $2 AND (
             (mm.source_type = 'namespace' AND mm.source_id IN (SELECT id FROM namespaces WHERE $1 = ANY(traversal_ids) AND id <> $1))
             OR (mm.source_type = 'project' AND mm.source_id IN (
               SELECT p.id FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE $1 = ANY(n.traversal_ids))))`,
          [scope.id, userId],
        );
      }
      return true;
    });
  }
}
