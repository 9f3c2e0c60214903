import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { AccessCache } from '../database/access-cache';
import { AccessEpoch } from '../database/access-epoch';
import { Namespace } from './namespace.entity';
import { Project } from './project.entity';
import type { ProjectContext } from './project-context';
import type { Visibility } from './visibility';

/** SQL condition with its named parameters. */
export interface SqlCondition {
  where: string;
  params: Record<string, unknown>;
}

/** `12` or `group/sub/project` (URL-decoded already): GitLab's two ways to name a resource. */
function byIdOrPath(idOrPath: string): { id: number } | { path: string } | null {
  if (/^\d+$/.test(idOrPath)) {
    const id = Number(idOrPath);
    return id > 0 && id <= 2_147_483_647 ? { id } : null;
  }
  // Postgres text cannot hold NUL: no project or group has such a path (and the query would fail).
  return idOrPath.length > 0 && idOrPath.length <= 2048 && !idOrPath.includes('\0') ? { path: idOrPath } : null;
}

/** Projects and groups kept per process, found or not (a miss costs one entry of a bounded LRU). */
const CACHED_RESOURCES = 10_000;

@Injectable()
export class ProjectsService {
  /** Every package request starts with one of these lookups: kept until a project or namespace changes. */
  private readonly projectCache: AccessCache<ProjectContext | null>;
  private readonly groupCache: AccessCache<Namespace | null>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    epoch: AccessEpoch,
  ) {
    this.projectCache = new AccessCache(epoch, ['projects', 'namespaces'], CACHED_RESOURCES);
    this.groupCache = new AccessCache(epoch, ['namespaces'], CACHED_RESOURCES);
  }

  /** A project with its namespace, by id or full path (case-insensitive). Shared: do not change it. */
  async findProject(idOrPath: string): Promise<ProjectContext | null> {
    const key = byIdOrPath(idOrPath);
    if (!key) return null;
    return this.projectCache.get('id' in key ? `#${key.id}` : key.path, () => this.loadProject(key));
  }

  private async loadProject(key: { id: number } | { path: string }): Promise<ProjectContext | null> {
    const qb = this.ds
      .getRepository(Project)
      .createQueryBuilder('p')
      .innerJoinAndMapOne('p.namespaceRow', Namespace, 'n', 'n.id = p.namespace_id')
      .where('NOT p.pending_delete');
    const row = (await (
      'id' in key ? qb.andWhere('p.id = :id', { id: key.id }) : qb.andWhere('lower(p.full_path) = lower(:path)', { path: key.path })
    ).getOne()) as (Project & { namespaceRow?: Namespace }) | null;
    if (!row?.namespaceRow) return null;
    const namespace = row.namespaceRow;
    delete row.namespaceRow;
    return { project: row, namespace };
  }

  /**
   * One page of the projects every condition admits (SQL over projects `p` and namespaces `n`),
   * with how many match. Projects being deleted are never listed.
   */
  async page(
    conditions: SqlCondition[],
    order: { orderBy: 'id' | 'name' | 'path' | 'created_at' | 'updated_at'; sort: 'ASC' | 'DESC' },
    page: { offset: number; perPage: number },
  ): Promise<[ProjectContext[], number]> {
    const qb = this.ds
      .getRepository(Project)
      .createQueryBuilder('p')
      .innerJoinAndMapOne('p.namespaceRow', Namespace, 'n', 'n.id = p.namespace_id')
      .where('NOT p.pending_delete');
    for (const c of conditions) qb.andWhere(c.where, c.params);
    const [rows, total] = await qb
      .orderBy(`p.${order.orderBy}`, order.sort)
      .addOrderBy('p.id', order.sort)
      .skip(page.offset)
      .take(page.perPage)
      .getManyAndCount();
    return [
      rows.map((row) => {
        const { namespaceRow, ...project } = row as Project & { namespaceRow: Namespace };
        return { project: project as Project, namespace: namespaceRow };
      }),
      total,
    ];
  }

  async findProjectById(id: number): Promise<ProjectContext | null> {
    return this.findProject(String(id));
  }

  /** A group (not a user namespace) by id or full path. Shared: do not change it. */
  async findGroup(idOrPath: string): Promise<Namespace | null> {
    const key = byIdOrPath(idOrPath);
    if (!key) return null;
    return this.groupCache.get('id' in key ? `#${key.id}` : key.path, () => this.loadGroup(key));
  }

  private async loadGroup(key: { id: number } | { path: string }): Promise<Namespace | null> {
    const qb = this.ds.getRepository(Namespace).createQueryBuilder('n').where("n.kind = 'group' AND NOT n.pending_delete");
    return (
      'id' in key ? qb.andWhere('n.id = :id', { id: key.id }) : qb.andWhere('lower(n.full_path) = lower(:path)', { path: key.path })
    ).getOne();
  }

  async findNamespace(id: number): Promise<Namespace | null> {
    return this.ds.getRepository(Namespace).findOneBy({ id, pending_delete: false });
  }

  async createNamespace(
    input: { kind: 'group' | 'user'; name: string; path: string; parent?: Namespace | null; visibility: Visibility; description?: string },
    manager: EntityManager = this.ds.manager,
  ): Promise<Namespace> {
    const repo = manager.getRepository(Namespace);
    const parent = input.parent ?? null;
    const saved = await repo.save(
      repo.create({
        kind: input.kind,
        name: input.name,
        path: input.path,
        full_path: parent ? `${parent.full_path}/${input.path}` : input.path,
        parent_id: parent?.id ?? null,
        traversal_ids: [],
        visibility: input.visibility,
        description: input.description ?? '',
      }),
    );
    saved.traversal_ids = [...(parent?.traversal_ids ?? []), saved.id];
    await repo.update({ id: saved.id }, { traversal_ids: saved.traversal_ids });
    return saved;
  }

  async createProject(input: {
    namespace: Namespace;
    name: string;
    path: string;
    visibility: Visibility;
    description?: string;
    packages_enabled?: boolean;
  }): Promise<ProjectContext> {
    const repo = this.ds.getRepository(Project);
    const project = await repo.save(
      repo.create({
        namespace_id: input.namespace.id,
        name: input.name,
        path: input.path,
        full_path: `${input.namespace.full_path}/${input.path}`,
        description: input.description ?? '',
        visibility: input.visibility,
        packages_enabled: input.packages_enabled ?? true,
      }),
    );
    return { project, namespace: input.namespace };
  }

  async updateProject(
    project: Project,
    patch: Partial<Pick<Project, 'name' | 'description' | 'visibility' | 'packages_enabled'>>,
  ): Promise<Project> {
    await this.ds.getRepository(Project).update({ id: project.id }, patch);
    return this.ds.getRepository(Project).findOneByOrFail({ id: project.id });
  }

  /** Whether a namespace or project already uses this full path (paths are case-insensitive). */
  async fullPathTaken(fullPath: string): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT EXISTS (SELECT 1 FROM namespaces WHERE lower(full_path) = lower($1))
           OR EXISTS (SELECT 1 FROM projects WHERE lower(full_path) = lower($1)) AS taken`,
      [fullPath],
    );
    return Boolean(row.taken);
  }
}
