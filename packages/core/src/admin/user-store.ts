import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { AccessLevel } from '../auth/access-level';
import { User } from '../auth/user.entity';
import type { Page } from '../http/pagination';
import { ResourceRemoval } from './resource-removal';

export interface UserFilter {
  username?: string;
  search?: string;
  /** Admins also search by email. */
  searchEmail: boolean;
  state?: 'active' | 'blocked';
  admins?: boolean;
  /** GitLab's `without_project_bots`: leave out the bot users of project and group access tokens. */
  withoutBots?: boolean;
  createdAfter?: Date;
  createdBefore?: Date;
  orderBy: 'id' | 'name' | 'username' | 'created_at' | 'updated_at';
  sort: 'ASC' | 'DESC';
}

/** The admin API's user reads and writes beyond UsersService. */
@Injectable()
export class UserStore {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly removal: ResourceRemoval,
  ) {}

  async page(filter: UserFilter, page: Page): Promise<[User[], number]> {
    const qb = this.ds.getRepository(User).createQueryBuilder('u');
    if (filter.username) qb.andWhere('lower(u.username) = lower(:username)', { username: filter.username });
    if (filter.search) {
      const like = `%${filter.search.replace(/[\\%_]/g, '\\$&')}%`;
      const email = filter.searchEmail ? " OR u.email ILIKE :like ESCAPE '\\'" : '';
      qb.andWhere(`(u.username ILIKE :like ESCAPE '\\' OR u.name ILIKE :like ESCAPE '\\'${email})`, { like });
    }
    if (filter.state) qb.andWhere('u.state = :state', { state: filter.state });
    if (filter.admins) qb.andWhere('u.is_admin');
    if (filter.withoutBots) qb.andWhere('NOT u.bot');
    if (filter.createdAfter) qb.andWhere('u.created_at > :after', { after: filter.createdAfter });
    if (filter.createdBefore) qb.andWhere('u.created_at < :before', { before: filter.createdBefore });
    return qb
      .orderBy(`u.${filter.orderBy}`, filter.sort)
      .addOrderBy('u.id', filter.sort)
      .skip(page.offset)
      .take(page.perPage)
      .getManyAndCount();
  }

  async emailTaken(email: string, exceptUserId: number): Promise<boolean> {
    const [row] = await this.ds.query('SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2', [email, exceptUserId]);
    return Boolean(row);
  }

  async update(user: User, patch: Partial<Pick<User, 'name' | 'username' | 'email' | 'is_admin' | 'state'>>): Promise<User> {
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length) await this.ds.getRepository(User).update({ id: user.id }, defined);
    return this.ds.getRepository(User).findOneByOrFail({ id: user.id });
  }

  /** Groups the user is the only Owner of (no other live Owner on them or a group above them). */
  async soloOwnedGroups(userId: number): Promise<number[]> {
    const rows: { id: number }[] = await this.ds.query(
      `SELECT g.id FROM members m JOIN namespaces g ON g.id = m.source_id
       WHERE m.user_id = $1 AND m.source_type = 'namespace' AND m.access_level >= ${AccessLevel.OWNER}
         AND g.kind = 'group' AND NOT g.pending_delete
         AND NOT EXISTS (SELECT 1 FROM members o JOIN users ou ON ou.id = o.user_id
           WHERE o.source_type = 'namespace' AND o.source_id = ANY(g.traversal_ids) AND o.user_id <> $1
             AND o.access_level >= ${AccessLevel.OWNER} AND ou.state = 'active'
             AND (o.expires_at IS NULL OR o.expires_at >= current_date))`,
      [userId],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Deletes the user: its row, and with it (cascades) every token and membership at once; its
   * personal namespace and `groups` (those it alone owned, with GitLab's hard_delete) are hidden
   * now and removed with their projects and packages in the background.
   */
  async delete(user: User, groups: number[]): Promise<void> {
    const removals = [user.namespace_id, ...groups].map((id) => ({ kind: 'namespace' as const, id }));
    await this.ds.transaction(async (m) => {
      for (const r of removals) await this.removal.hide(m, r);
      await m.query('DELETE FROM users WHERE id = $1', [user.id]);
    });
    for (const r of removals) await this.removal.enqueue(r);
  }
}
