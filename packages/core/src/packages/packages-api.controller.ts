import { Controller, Delete, Get, HttpCode, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource, SelectQueryBuilder } from 'typeorm';

import { AccessService } from '../auth/access.service';
import { assertMayList } from '../auth/listing';
import { PackageAccess } from '../auth/package-access.guard';
import type { Principal } from '../auth/principal';
import { CurrentGroup, CurrentPrincipal, CurrentProject } from '../auth/request-context';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import type { PackageOverview } from '../plugin/format-plugin';
import { FormatRegistry } from '../plugin/format-registry';
import type { Namespace } from '../projects/namespace.entity';
import type { ProjectContext } from '../projects/project-context';
import { ProjectsService } from '../projects/projects.service';
import { Package } from './package.entity';
import { PackageService } from './package.service';
import { PackageFile } from './package-file.entity';
import { DISPLAYABLE_STATUSES, LIVE_STATUSES, PACKAGE_STATUSES, type PackageStatus } from './package-status';
import { apiPackageType, formatPackageType } from './package-types';
import { packageFileJson, packageJson } from './representations';

/** GitLab's package types: a filter on one whose format is not installed matches nothing (not a 400). */
const GITLAB_PACKAGE_TYPES = [
  'maven',
  'npm',
  'conan',
  'nuget',
  'pypi',
  'composer',
  'generic',
  'golang',
  'debian',
  'rubygems',
  'helm',
  'terraform_module',
  'rpm',
  'ml_model',
  'cargo',
];

/** The most of a README the package page is given (npm's registry cuts packuments' at the same size). */
export const MAX_README_CHARS = 65_536;

const ORDER_COLUMNS = {
  created_at: 'pkg.created_at',
  name: 'pkg.name',
  version: 'pkg.version',
  type: 'pkg.package_type',
  // Group (and instance) listings only, as GitLab's group packages API.
  project_path: 'p.full_path',
} as const;
type OrderBy = keyof typeof ORDER_COLUMNS;
const PROJECT_ORDERS = (Object.keys(ORDER_COLUMNS) as OrderBy[]).filter((o) => o !== 'project_path');

/** GitLab's shared Packages API: list, show and delete packages and their files. */
@Controller('api/v4')
export class PackagesApiController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly packages: PackageService,
    private readonly access: AccessService,
    private readonly formats: FormatRegistry,
    private readonly projects: ProjectsService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private get baseUrl() {
    return externalBaseUrl(this.config);
  }

  @Get('projects/:id/packages')
  @PackageAccess('read', { challenge: false, session: true, restApi: true })
  async listProject(
    @CurrentProject() ctx: ProjectContext,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    assertMayList(req);
    const qb = this.baseQuery().where('pkg.project_id = :projectId', { projectId: ctx.project.id });
    return this.list(qb, query, req, reply, false);
  }

  @Get('groups/:id/packages')
  @PackageAccess('read', { scope: 'group', challenge: false, session: true, restApi: true })
  async listGroup(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const readable = this.access.readableProjects(principal, { listing: true });
    const exclude = new ApiParams(query, {}).boolean('exclude_subgroups') ?? false;
    const qb = this.baseQuery()
      .where(exclude ? 'n.id = :groupId' : ':groupId = ANY(n.traversal_ids)', { groupId: group.id })
      .andWhere(readable.where, readable.params);
    return this.list(qb, query, req, reply, true);
  }

  /** Stowage's own: every package the caller may list, across projects (the UI's search), as the group listing answers. */
  @Get('packages')
  @PackageAccess('read', { scope: 'instance', challenge: false, session: true, restApi: true })
  async listInstance(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const readable = this.access.readableProjects(principal, { listing: true });
    return this.list(this.baseQuery().where(readable.where, readable.params), query, req, reply, true);
  }

  /**
   * Stowage's own: what the UI's package page shows beyond GitLab's JSON: the format's metadata,
   * dependencies, README and client set-up and install commands for this server.
   */
  @Get('projects/:id/packages/:package_id/overview')
  @PackageAccess('read', { challenge: false, session: true, restApi: true })
  async overview(
    @CurrentProject() ctx: ProjectContext,
    @Param('package_id') id: string,
    @Req() req: FastifyRequest,
  ): Promise<PackageOverview> {
    assertMayList(req);
    const pkg = await this.findPackage(ctx, id, DISPLAYABLE_STATUSES);
    if (!this.formats.has(pkg.package_type)) return { metadata: [], dependencies: [], readme: null, instructions: [] };
    const files = await this.ds
      .getRepository(PackageFile)
      .find({ where: { package_id: pkg.id }, order: { id: 'ASC' }, select: { id: true, file_name: true, size: true } });
    const rootId = ctx.namespace.traversal_ids[0];
    const root = ctx.namespace.kind === 'group' ? await this.projects.findGroup(String(rootId)) : null;
    const overview = this.formats.get(pkg.package_type).packageOverview(pkg, {
      baseUrl: this.baseUrl,
      project: { id: ctx.project.id, full_path: ctx.project.full_path },
      rootGroup: root ? { id: root.id, full_path: root.full_path } : null,
      files: files.map((f) => ({ id: f.id, file_name: f.file_name, size: Number(f.size) })),
    });
    // A browser renders it: Markdown parsers have inputs that cost them quadratic time, so what any format stores is cut here.
    return { ...overview, readme: overview.readme === null ? null : overview.readme.slice(0, MAX_README_CHARS) };
  }

  @Get('projects/:id/packages/:package_id')
  @PackageAccess('read', { challenge: false, session: true, restApi: true })
  async show(@CurrentProject() ctx: ProjectContext, @Param('package_id') id: string, @Req() req: FastifyRequest) {
    assertMayList(req);
    const pkg = await this.findPackage(ctx, id, DISPLAYABLE_STATUSES);
    const tags = await this.tagNames([pkg.id]);
    const json: Record<string, unknown> = packageJson(pkg, ctx.project, this.baseUrl, tags.get(pkg.id));
    // The format's own details (a package of a format no longer enabled has none).
    const details = this.formats.has(pkg.package_type) ? this.formats.get(pkg.package_type).packageDetails(pkg) : {};
    for (const [key, value] of Object.entries(details)) if (!(key in json)) json[key] = value;
    return json;
  }

  /**
   * GitLab's pipelines that built the package. Stowage has no pipelines, so the honest answer is
   * an empty page; per_page is 1..20 and `cursor` is accepted, as GitLab's keyset pagination takes them.
   */
  @Get('projects/:id/packages/:package_id/pipelines')
  @PackageAccess('read', { challenge: false, session: true, restApi: true })
  async pipelines(
    @CurrentProject() ctx: ProjectContext,
    @Param('package_id') id: string,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    assertMayList(req);
    const p = new ApiParams(query, {});
    const perPage = p.integer('per_page');
    if (perPage !== undefined && (perPage < 1 || perPage > 20)) throw httpErrors.invalidParam('per_page', 'does not have a valid value');
    p.string('cursor');
    await this.findPackage(ctx, id, DISPLAYABLE_STATUSES);
    setPaginationHeaders(req, reply, { ...pageParams(query), perPage: perPage ?? 20 }, 0, this.baseUrl);
    return [];
  }

  @Delete('projects/:id/packages/:package_id')
  @PackageAccess('delete', { challenge: false, session: true, restApi: true })
  @HttpCode(204)
  async destroy(@CurrentProject() ctx: ProjectContext, @Param('package_id') id: string) {
    const pkg = await this.findPackage(ctx, id);
    await this.packages.assertMayDelete(ctx, pkg.package_type, pkg.name);
    await this.packages.deletePackage(pkg);
  }

  @Get('projects/:id/packages/:package_id/package_files')
  @PackageAccess('read', { challenge: false, session: true, restApi: true })
  async files(
    @CurrentProject() ctx: ProjectContext,
    @Param('package_id') id: string,
    @Query() query: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    assertMayList(req);
    const pkg = await this.findPackage(ctx, id, DISPLAYABLE_STATUSES);
    const page = pageParams(query);
    const [files, total] = await this.ds
      .getRepository(PackageFile)
      .findAndCount({ where: { package_id: pkg.id }, order: { id: 'ASC' }, skip: page.offset, take: page.perPage });
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    return files.map(packageFileJson);
  }

  @Delete('projects/:id/packages/:package_id/package_files/:file_id')
  @PackageAccess('delete', { challenge: false, session: true, restApi: true })
  @HttpCode(204)
  async destroyFile(@CurrentProject() ctx: ProjectContext, @Param('package_id') id: string, @Param('file_id') fileId: string) {
    const pkg = await this.findPackage(ctx, id);
    const file = /^\d{1,9}$/.test(fileId)
      ? await this.ds.getRepository(PackageFile).findOneBy({ id: Number(fileId), package_id: pkg.id })
      : null;
    if (!file) throw httpErrors.notFound();
    await this.packages.assertMayDelete(ctx, pkg.package_type, pkg.name);
    await this.packages.deleteFile(pkg, file);
  }

  /**
   * Reads answer, as GitLab's PackageFinder, only for displayable packages (default, error,
   * deprecated): a hidden, processing or pending_destruction one is a 404. Deletes find any live
   * package, so a hidden one can still be removed (GitLab's finder would 404 it).
   */
  private async findPackage(ctx: ProjectContext, id: string, statuses: readonly PackageStatus[] = LIVE_STATUSES): Promise<Package> {
    const pkg = /^\d{1,9}$/.test(id) ? await this.packages.findPackageById(ctx.project.id, Number(id)) : null;
    if (!pkg || !statuses.includes(pkg.status)) throw httpErrors.notFound('Package');
    return pkg;
  }

  private baseQuery(): SelectQueryBuilder<Package> {
    return this.ds
      .getRepository(Package)
      .createQueryBuilder('pkg')
      .innerJoin('projects', 'p', 'p.id = pkg.project_id')
      .innerJoin('namespaces', 'n', 'n.id = p.namespace_id')
      .addSelect('p.full_path', 'project_full_path');
  }

  private async list(qb: SelectQueryBuilder<Package>, query: unknown, req: FastifyRequest, reply: FastifyReply, withProject: boolean) {
    const p = new ApiParams(query, {});
    const type = p.oneOf('package_type', [...new Set([...GITLAB_PACKAGE_TYPES, ...this.formats.names().map(apiPackageType)])]);
    const name = p.string('package_name');
    const version = p.string('package_version');
    const status = p.oneOf('status', PACKAGE_STATUSES);
    const orderBy = p.oneOf('order_by', withProject ? (Object.keys(ORDER_COLUMNS) as OrderBy[]) : PROJECT_ORDERS) ?? 'created_at';
    const sort = p.oneOf('sort', ['asc', 'desc'] as const) ?? 'asc';
    const page = pageParams(query);

    if (type) qb.andWhere('pkg.package_type = :type', { type: formatPackageType(type) });
    if (name) qb.andWhere("pkg.name ILIKE :name ESCAPE '\\'", { name: `%${name.replace(/[\\%_]/g, '\\$&')}%` });
    if (version) qb.andWhere('pkg.version = :version', { version });
    if (!p.boolean('include_versionless')) qb.andWhere("pkg.version <> ''");
    qb.andWhere('pkg.status IN (:...statuses)', { statuses: status ? [status] : [...DISPLAYABLE_STATUSES] });

    const total = await qb.getCount();
    const { entities, raw } = await qb
      .orderBy(ORDER_COLUMNS[orderBy], sort.toUpperCase() as 'ASC' | 'DESC')
      .addOrderBy('pkg.id', sort.toUpperCase() as 'ASC' | 'DESC')
      .offset(page.offset)
      .limit(page.perPage)
      .getRawAndEntities();
    setPaginationHeaders(req, reply, page, total, this.baseUrl);
    const tags = await this.tagNames(entities.map((e) => e.id));
    return entities.map((pkg, i) => {
      const fullPath = (raw[i] as { project_full_path: string }).project_full_path;
      const json = packageJson(pkg, { id: pkg.project_id, full_path: fullPath }, this.baseUrl, tags.get(pkg.id));
      return withProject ? { ...json, project_id: pkg.project_id, project_path: fullPath } : json;
    });
  }

  private async tagNames(packageIds: number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (!packageIds.length) return out;
    const rows: { package_id: number; name: string }[] = await this.ds.query(
      'SELECT package_id, name FROM package_tags WHERE package_id = ANY($1) ORDER BY name',
      [packageIds],
    );
    for (const r of rows) out.set(r.package_id, [...(out.get(r.package_id) ?? []), r.name]);
    return out;
  }
}
