import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { Namespace } from '../projects/namespace.entity';
import type { SqlCondition } from '../projects/projects.service';
import type { Visibility } from '../projects/visibility';
import { mostVisible } from './visibility-rules';

export interface GroupPatch {
  name?: string;
  path?: string;
  description?: string;
  visibility?: Visibility;
}

/** The admin API's reads and writes of groups beyond ProjectsService's lookups. */
@Injectable()
export class GroupStore {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** One page of the groups every condition (SQL over namespaces `g`) admits, with how many match. */
  async page(
    conditions: SqlCondition[],
    order: { orderBy: 'id' | 'name' | 'path'; sort: 'ASC' | 'DESC' },
    page: { offset: number; perPage: number },
  ): Promise<[Namespace[], number]> {
    const qb = this.ds.getRepository(Namespace).createQueryBuilder('g').where("g.kind = 'group' AND NOT g.pending_delete");
    for (const c of conditions) qb.andWhere(c.where, c.params);
    return qb
      .orderBy(`g.${order.orderBy}`, order.sort)
      .addOrderBy('g.id', order.sort)
      .skip(page.offset)
      .take(page.perPage)
      .getManyAndCount();
  }

  /** The most visible setting among the group's live projects and among its direct subgroups. */
  async contentsVisibility(groupId: number): Promise<{ projects: Visibility | null; subgroups: Visibility | null }> {
    const projects: { visibility: Visibility }[] = await this.ds.query(
      'SELECT DISTINCT visibility FROM projects WHERE namespace_id = $1 AND NOT pending_delete',
      [groupId],
    );
    const subgroups: { visibility: Visibility }[] = await this.ds.query(
      'SELECT DISTINCT visibility FROM namespaces WHERE parent_id = $1 AND NOT pending_delete',
      [groupId],
    );
    return { projects: mostVisible(projects.map((r) => r.visibility)), subgroups: mostVisible(subgroups.map((r) => r.visibility)) };
  }

  /** Whether a live package is in a project under the group (whose package names and URLs use its path). */
  async holdsPackages(groupId: number): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT 1 FROM packages k JOIN projects p ON p.id = k.project_id JOIN namespaces n ON n.id = p.namespace_id
       WHERE $1 = ANY(n.traversal_ids) AND k.status <> 'pending_destruction' LIMIT 1`,
      [groupId],
    );
    return Boolean(row);
  }

  /**
   * Applies a checked patch. A new path moves the full paths of every group and project below
   * in the same transaction; returns false (nothing changed) when one of them is taken already.
   */
  async update(group: Namespace, patch: GroupPatch): Promise<Namespace | false> {
    return this.ds.transaction(async (m) => {
      const { path, ...rest } = patch;
      if (path !== undefined && path !== group.path) {
        const oldPrefix = group.full_path;
        const newPrefix =
          group.parent_id === null ? path : `${group.full_path.slice(0, group.full_path.length - group.path.length)}${path}`;
        const [taken] = await m.query(
          `SELECT 1 FROM namespaces WHERE lower(full_path) = lower($1) AND id <> $2
           UNION ALL SELECT 1 FROM projects WHERE lower(full_path) = lower($1)`,
          [newPrefix, group.id],
        );
        if (taken) return false;
        await m.query(
          'UPDATE namespaces SET path = CASE WHEN id = $1 THEN $4 ELSE path END, full_path = $3 || substr(full_path, length($2) + 1) WHERE $1 = ANY(traversal_ids)',
          [group.id, oldPrefix, newPrefix, path],
        );
        await m.query(
          `UPDATE projects p SET full_path = $3 || substr(p.full_path, length($2) + 1)
           FROM namespaces n WHERE n.id = p.namespace_id AND $1 = ANY(n.traversal_ids)`,
          [group.id, oldPrefix, newPrefix],
        );
      }
      const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      if (Object.keys(defined).length) await m.getRepository(Namespace).update({ id: group.id }, defined);
      return m.getRepository(Namespace).findOneByOrFail({ id: group.id });
    });
  }
}
