import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, In, type SelectQueryBuilder } from 'typeorm';

import { AuditLog } from '../audit/audit-log';
import type { PackageScope } from '../auth/package-scope';
import { preparedRows } from '../database/prepared';
import { httpErrors } from '../http/http-error';
import { FormatRegistry } from '../plugin/format-registry';
import type { ProjectContext } from '../projects/project-context';
import { type DownloadableFile, FileStorage, type StoredBlob } from '../storage/file-storage.service';
import { DownloadLookups } from './download-lookups';
import { DownloadMarks } from './download-marks';
import { type DuplicateCheck, type DuplicateRule, refuseDuplicate } from './duplicate-policy';
import { Package } from './package.entity';
import { PackageFile } from './package-file.entity';
import { PackageSettingsService } from './package-settings.service';
import { INSTALLABLE_STATUSES, LIVE_STATUSES, type PackageStatus } from './package-status';
import { PackageWriter } from './package-writer';
import { PackageProtection } from './protection/package-protection';

export interface PackageName {
  projectId: number;
  packageType: string;
  name: string;
}

type Row = Record<string, unknown>;

/** A package file read for a download: its row and its blob's. */
export type DownloadFile = PackageFile & Required<Pick<DownloadableFile, 'blob'>>;

// Named, not `*`: a prepared statement whose columns change (a migration adding one while
// older servers run) fails once per connection with "cached plan must not change result type".
const PACKAGE_COLUMNS = [
  'id',
  'project_id',
  'package_type',
  'name',
  'normalized_name',
  'version',
  'normalized_version',
  'status',
  'metadata',
  'created_at',
  'updated_at',
  'last_downloaded_at',
];

/** `p`: the newest package with name and version $3, $4 in project $1, type $2, status in $5. */
const NEWEST_PACKAGE = `WITH p AS (
  SELECT ${PACKAGE_COLUMNS.join(', ')} FROM packages WHERE project_id = $1 AND package_type = $2 AND normalized_name = $3
    AND normalized_version = $4 AND status = ANY($5) ORDER BY id DESC LIMIT 1)`;

const FILE_COLUMNS = [
  'id',
  'package_id',
  'file_name',
  'size',
  'file_sha256',
  'file_md5',
  'file_sha1',
  'file_sha512',
  'metadata',
  'created_at',
  'updated_at',
];

/** Package files (`f`) with their blob's size, store and key; the caller adds WHERE and ORDER BY. */
const FILE_WITH_BLOB = `SELECT ${FILE_COLUMNS.map((c) => `f.${c}`).join(', ')}, b.size AS blob_size, b.store AS blob_store, b.storage_key AS blob_key
  FROM package_files f JOIN blobs b ON b.sha256 = f.file_sha256`;

function toDownloadFile(row: Row): DownloadFile {
  const { blob_size, blob_store, blob_key, ...columns } = row;
  return Object.assign(new PackageFile(), columns, {
    id: Number(columns.id),
    package_id: Number(columns.package_id),
    size: Number(columns.size),
    created_at: new Date(columns.created_at as string | Date),
    updated_at: new Date(columns.updated_at as string | Date),
    blob: {
      sha256: columns.file_sha256 as string,
      size: Number(blob_size),
      store: blob_store as DownloadFile['blob']['store'],
      storage_key: blob_key as string,
    },
  });
}

/**
 * The one place packages and their files are found, created, changed and deleted. Formats
 * read through the query methods and write inside `write()`, which runs one transaction,
 * and bumps the revision of every name it touched.
 */
@Injectable()
export class PackageService {
  private readonly downloads = new DownloadMarks();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly formats: FormatRegistry,
    private readonly storage: FileStorage,
    private readonly settings: PackageSettingsService,
    /** Kept on the embedded database only. */
    private readonly lookups: DownloadLookups,
    private readonly protection: PackageProtection,
    private readonly audit: AuditLog,
  ) {}

  normalizeName(packageType: string, name: string): string {
    return this.formats.get(packageType).normalizeName(name);
  }

  normalizeVersion(packageType: string, version: string): string {
    return version === '' ? '' : this.formats.get(packageType).normalizeVersion(version);
  }

  /**
   * Runs `work` in a transaction. If it throws, nothing it did stays, and the blobs it was
   * given (uploads made for it) are released.
   */
  async write<T>(work: (writer: PackageWriter) => Promise<T>, opts: { blobs?: StoredBlob[] } = {}): Promise<T> {
    try {
      const { value, audits } = await this.ds.transaction(async (manager) => {
        const writer = new PackageWriter(manager, this.formats, this.audit);
        const value = await work(writer);
        await writer.bumpRevisions();
        await this.audit.save(writer.audits, manager);
        return { value, audits: writer.audits };
      });
      this.audit.log(audits);
      return value;
    } catch (err) {
      for (const blob of opts.blobs ?? []) await this.storage.release(blob).catch(() => undefined);
      // The project was deleted (DELETE /projects/:id) while this write was under way.
      if (projectVanished(err)) throw httpErrors.notFound('Project');
      throw err;
    } finally {
      this.lookups.changed();
    }
  }

  /**
   * Resolves the duplicate rule for one upload in `ctx` (its package settings, read here because
   * a query beside a transaction would wait for it on the embedded database) and refuses now an
   * upload that is already a duplicate: call it before reading the body, so the refusal goes out
   * before the client sends it (`Expect: 100-continue`). Pass the result to `upsertPackage`,
   * which checks again under the package row's lock. A push the project's protection rules
   * refuse the request's caller is refused first (`403 Package protected.`).
   */
  async checkDuplicate(ctx: ProjectContext, rule: DuplicateRule): Promise<DuplicateCheck> {
    await this.protection.assertMayPush(ctx, rule.packageType, rule.name, rule.refuseProtected);
    const allowed =
      (rule.allowedBy ?? 'settings') === 'settings' &&
      (await this.settings.duplicatesAllowed(ctx, rule.packageType, rule.name, rule.regexVersion ?? rule.version));
    const check = { rule, allowed };
    if (!allowed) {
      const ref = { projectId: ctx.project.id, packageType: rule.packageType, name: rule.name, version: rule.version };
      await refuseDuplicate(this.ds.manager, check, await this.findPackage(ref, LIVE_STATUSES));
    }
    return check;
  }

  /**
   * Refuses (`403 Package protected.`) a change to `name` the project's protection rules do not
   * allow the request's caller: every write that does not go through `checkDuplicate` (Maven
   * snapshots and metadata, NuGet symbols, npm dist-tags and deprecations…) calls it before
   * reading the body and before `write()`.
   */
  assertMayPush(ctx: ProjectContext, packageType: string, name: string, refuse?: () => Error): Promise<void> {
    return this.protection.assertMayPush(ctx, packageType, name, refuse);
  }

  /**
   * Refuses (`403 Package is deletion protected.`) a deletion of a version of `name`, or of some
   * of its files, that the rules do not allow the request's caller: every delete route calls it
   * before `deletePackage`/`deleteFile`/`write()`.
   */
  assertMayDelete(ctx: ProjectContext, packageType: string, name: string, refuse?: () => Error): Promise<void> {
    return this.protection.assertMayDelete(ctx, packageType, name, refuse);
  }

  /** The newest live package with this name and version (normalized comparison). */
  async findPackage(
    ref: PackageName & { version: string },
    statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES,
  ): Promise<Package | null> {
    const [row] = await preparedRows<Row>(
      this.ds,
      'find-package',
      `${NEWEST_PACKAGE} SELECT ${PACKAGE_COLUMNS.join(', ')} FROM p`,
      this.packageParams(ref, statuses),
    );
    return row ? this.toPackage(row) : null;
  }

  /**
   * The newest live package with this name and version and its newest file named `fileName`
   * (with its blob row, as findFile), in one round trip: what a download by name and version
   * reads. Null when there is no such package; `file` null when it has no such file.
   */
  async findPackageFile(
    ref: PackageName & { version: string },
    fileName: string,
    statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES,
  ): Promise<{ pkg: Package; file: DownloadFile | null } | null> {
    const key = JSON.stringify([ref.projectId, ref.packageType, ref.name, ref.version, fileName, statuses]);
    return this.lookups.get(key, () => this.readPackageFile(ref, fileName, statuses));
  }

  private async readPackageFile(
    ref: PackageName & { version: string },
    fileName: string,
    statuses: readonly PackageStatus[],
  ): Promise<{ pkg: Package; file: DownloadFile | null } | null> {
    const [row] = await preparedRows<Row>(
      this.ds,
      'find-package-file',
      `${NEWEST_PACKAGE} SELECT ${PACKAGE_COLUMNS.map((c) => `p.${c}`).join(', ')}, ${FILE_COLUMNS.map((c) => `f.${c} AS f_${c}`).join(', ')}, f.blob_size, f.blob_store, f.blob_key
       FROM p LEFT JOIN LATERAL (${FILE_WITH_BLOB} WHERE f.package_id = p.id AND f.file_name = $6 ORDER BY f.id DESC LIMIT 1) f ON true`,
      [...this.packageParams(ref, statuses), fileName],
    );
    if (!row) return null;
    const pkg = this.toPackage(Object.fromEntries(PACKAGE_COLUMNS.map((c) => [c, row[c]])));
    if (row.f_id === null) return { pkg, file: null };
    const fileRow: Row = { blob_size: row.blob_size, blob_store: row.blob_store, blob_key: row.blob_key };
    for (const c of FILE_COLUMNS) fileRow[c] = row[`f_${c}`];
    return { pkg, file: toDownloadFile(fileRow) };
  }

  private packageParams(ref: PackageName & { version: string }, statuses: readonly PackageStatus[]): unknown[] {
    return [
      ref.projectId,
      ref.packageType,
      this.normalizeName(ref.packageType, ref.name),
      this.normalizeVersion(ref.packageType, ref.version),
      [...statuses],
    ];
  }

  private toPackage(row: Row): Package {
    return this.ds.getRepository(Package).create(row as Partial<Package>);
  }

  async findPackageById(projectId: number, id: number): Promise<Package | null> {
    return this.ds.getRepository(Package).findOneBy({ project_id: projectId, id });
  }

  /** Every live version of a name, oldest first. */
  async listVersions(ref: PackageName, statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES): Promise<Package[]> {
    return this.ds.getRepository(Package).find({
      where: {
        project_id: ref.projectId,
        package_type: ref.packageType,
        normalized_name: this.normalizeName(ref.packageType, ref.name),
        status: In([...statuses]),
      },
      order: { created_at: 'ASC', id: 'ASC' },
    });
  }

  /**
   * A file of a package by name (the newest, if a version holds several of one name), with its
   * blob row, so FileStorage.send needs no query of its own: one round trip per download.
   */
  async findFile(packageId: number, fileName: string): Promise<DownloadFile | null> {
    const [row] = await preparedRows<Row>(
      this.ds,
      'find-file',
      `${FILE_WITH_BLOB} WHERE f.package_id = $1 AND f.file_name = $2 ORDER BY f.id DESC LIMIT 1`,
      [packageId, fileName],
    );
    return row ? toDownloadFile(row) : null;
  }

  async listFiles(packageIds: number[]): Promise<PackageFile[]> {
    if (!packageIds.length) return [];
    return this.ds.getRepository(PackageFile).find({ where: { package_id: In(packageIds) }, order: { id: 'ASC' } });
  }

  /** Tag name → package id, for one package name. */
  async tags(ref: PackageName): Promise<Map<string, number>> {
    const rows: { name: string; package_id: number }[] = await this.ds.query(
      'SELECT name, package_id FROM package_tags WHERE project_id = $1 AND package_type = $2 AND normalized_name = $3 ORDER BY name',
      [ref.projectId, ref.packageType, this.normalizeName(ref.packageType, ref.name)],
    );
    return new Map(rows.map((r) => [r.name, r.package_id]));
  }

  /**
   * A number that changes whenever any version, file or tag of the name changes; 0 if the
   * name was never published. Cache rendered metadata under it.
   */
  async revision(ref: PackageName): Promise<number> {
    const [row] = await this.ds.query(
      'SELECT revision FROM package_names WHERE project_id = $1 AND package_type = $2 AND normalized_name = $3',
      [ref.projectId, ref.packageType, this.normalizeName(ref.packageType, ref.name)],
    );
    return row ? Number(row.revision) : 0;
  }

  /**
   * The newest live version of each name in the scope matching `text` (a case-insensitive
   * substring), newest first; for searches (resolve the scope with `listing`).
   */
  async searchNames(
    scope: PackageScope,
    packageType: string,
    page: { text: string; limit: number; offset: number },
  ): Promise<{ packages: Package[]; total: number }> {
    const base = this.ds
      .createQueryBuilder()
      .from('packages', 'pk')
      .where('pk.package_type = :skType AND pk.status IN (:...skStatuses)', {
        skType: packageType,
        skStatuses: [...INSTALLABLE_STATUSES],
      });
    this.inScope(base, 'pk', scope);
    const text = page.text.trim();
    if (text)
      base.andWhere("pk.normalized_name ILIKE :skText ESCAPE '\\'", {
        skText: `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      });
    const latest = base.clone().select('max(pk.id)', 'id').groupBy('pk.project_id').addGroupBy('pk.normalized_name');
    const [{ total }] = await this.ds
      .createQueryBuilder()
      .select('count(*)', 'total')
      .from(`(${latest.getQuery()})`, 'l')
      .setParameters(latest.getParameters())
      .getRawMany();
    const ids: { id: number }[] = await latest.orderBy('max(pk.id)', 'DESC').limit(page.limit).offset(page.offset).getRawMany();
    const packages = ids.length
      ? await this.ds.getRepository(Package).find({ where: { id: In(ids.map((r) => Number(r.id))) }, order: { id: 'DESC' } })
      : [];
    return { packages, total: Number(total) };
  }

  /**
   * Restricts `qb` (rows of `alias`, which has `project_id` and `normalized_name`) to the
   * scope. `name` is the package name asked for, for an instance scope narrowed to projects
   * whose path starts the name; without it each row's own name is compared.
   */
  private inScope<T extends object>(qb: SelectQueryBuilder<T>, alias: string, scope: PackageScope, name?: string): SelectQueryBuilder<T> {
    if (scope.kind === 'project') return qb.andWhere(`${alias}.project_id = :scopeProject`, { scopeProject: scope.projectId });
    qb.innerJoin('projects', 'p', `p.id = ${alias}.project_id`)
      .innerJoin('namespaces', 'n', 'n.id = p.namespace_id')
      .andWhere(`(${scope.readable.where})`, scope.readable.params);
    if (scope.kind === 'group') return qb.andWhere(':scopeGroup = ANY(n.traversal_ids)', { scopeGroup: scope.groupId });
    if (scope.rootNamespace !== undefined) {
      qb.andWhere("lower(split_part(n.full_path, '/', 1)) = lower(:scopeRoot)", { scopeRoot: scope.rootNamespace });
    }
    if (scope.namePrefixedByProjectPath) {
      const named = name === undefined ? `${alias}.normalized_name` : ':scopeNamed';
      qb.andWhere(`starts_with(lower(${named}), lower(p.full_path) || '/')`, name === undefined ? {} : { scopeNamed: name });
    }
    return qb;
  }

  /**
   * The projects in the scope that ever held the name, each with the name's revision there,
   * by project id; none when the name is unknown in the scope. Formats that merge one name
   * across projects cache each project's part under its revision.
   */
  async scopeProjects(scope: PackageScope, packageType: string, name: string): Promise<{ projectId: number; revision: number }[]> {
    const qb = this.ds
      .createQueryBuilder()
      .select('pn.project_id', 'project_id')
      .addSelect('pn.revision', 'revision')
      .from('package_names', 'pn')
      .where('pn.package_type = :pnType AND pn.normalized_name = :pnName', {
        pnType: packageType,
        pnName: this.normalizeName(packageType, name),
      })
      .orderBy('pn.project_id', 'ASC');
    const rows: { project_id: number; revision: string }[] = await this.inScope(qb, 'pn', scope, name).getRawMany();
    return rows.map((r) => ({ projectId: Number(r.project_id), revision: Number(r.revision) }));
  }

  /**
   * Whether a live package of this name is held in the scope's organization, whoever asks:
   * what decides that a name is local and never goes to an upstream (dependency confusion).
   * A project or group scope covers every project under its top-level group, so a name one
   * project of an organization holds is never fetched from, nor sent to, an upstream by
   * another project's endpoint; the instance scope covers every project.
   */
  async nameHeld(scope: PackageScope, packageType: string, name: string): Promise<boolean> {
    const held = this.heldCondition(scope, packageType, name, 1);
    const [row] = await preparedRows<{ held: boolean }>(this.ds, `name-held-${scope.kind}`, `SELECT ${held.sql} AS held`, held.params);
    return row.held;
  }

  /**
   * `lookup` (a query on `lookupParams` as $1…$n) and `nameHeld` in one round trip: one row,
   * with `held` and the lookup's columns (all null when the name is held or the lookup found
   * nothing). For reads of what an upstream answer needs, which must not happen for a held name.
   */
  unlessHeld(
    scope: PackageScope,
    packageType: string,
    name: string,
    lookup: string,
    lookupParams: unknown[],
  ): { sql: string; params: unknown[] } {
    const held = this.heldCondition(scope, packageType, name, lookupParams.length + 1);
    return {
      sql: `SELECT h.held, l.* FROM (SELECT ${held.sql} AS held) h LEFT JOIN LATERAL (${lookup}) l ON NOT h.held`,
      params: [...lookupParams, ...held.params],
    };
  }

  /** `nameHeld` as an SQL condition with its parameters, numbered from `$first`. */
  private heldCondition(scope: PackageScope, packageType: string, name: string, first: number): { sql: string; params: unknown[] } {
    const [type, normalized, statuses, id] = [0, 1, 2, 3].map((i) => `$${first + i}`);
    const root =
      scope.kind === 'project'
        ? `(SELECT n.traversal_ids[1] FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE p.id = ${id})`
        : `(SELECT n.traversal_ids[1] FROM namespaces n WHERE n.id = ${id})`;
    const where =
      scope.kind === 'instance'
        ? `${id}::int IS NULL`
        : `EXISTS (SELECT 1 FROM projects p JOIN namespaces n ON n.id = p.namespace_id WHERE p.id = pk.project_id AND n.traversal_ids[1] = ${root})`;
    return {
      sql: `EXISTS (SELECT 1 FROM packages pk WHERE pk.package_type = ${type} AND pk.normalized_name = ${normalized} AND pk.status = ANY(${statuses}) AND ${where})`,
      params: [
        packageType,
        this.normalizeName(packageType, name),
        [...LIVE_STATUSES],
        scope.kind === 'project' ? scope.projectId : scope.kind === 'group' ? scope.groupId : null,
      ],
    };
  }

  /** Packages of a format with this name (normalized comparison) in these statuses, as `pk`. */
  private packagesNamed(packageType: string, name: string, statuses: readonly PackageStatus[]) {
    return this.ds
      .getRepository(Package)
      .createQueryBuilder('pk')
      .where('pk.package_type = :packageType AND pk.normalized_name = :normalized AND pk.status IN (:...statuses)', {
        packageType,
        normalized: this.normalizeName(packageType, name),
        statuses: [...statuses],
      });
  }

  /** The newest live package with this name and version (normalized comparison) in the scope. */
  async scopePackage(
    scope: PackageScope,
    packageType: string,
    name: string,
    version: string,
    statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES,
  ): Promise<Package | null> {
    const qb = this.packagesNamed(packageType, name, statuses)
      .andWhere('pk.normalized_version = :normalizedVersion', { normalizedVersion: this.normalizeVersion(packageType, version) })
      .orderBy('pk.id', 'DESC');
    return this.inScope(qb, 'pk', scope, name).getOne();
  }

  /**
   * scopePackage and that package's newest file named `fileName`: at project scope in one round
   * trip (findPackageFile), elsewhere in two. Null when there is no such package in the scope.
   */
  async scopePackageFile(
    scope: PackageScope,
    ref: { packageType: string; name: string; version: string },
    fileName: string,
  ): Promise<{ pkg: Package; file: DownloadFile | null } | null> {
    if (scope.kind === 'project') return this.findPackageFile({ ...ref, projectId: scope.projectId }, fileName);
    const pkg = await this.scopePackage(scope, ref.packageType, ref.name, ref.version);
    return pkg && { pkg, file: await this.findFile(pkg.id, fileName) };
  }

  /** Live package names of a format in a scope, each once, with its newest spelling; sorted. */
  async scopeNames(scope: PackageScope, packageType: string): Promise<{ normalized_name: string; name: string }[]> {
    const qb = this.ds
      .createQueryBuilder()
      .select('pk.normalized_name', 'normalized_name')
      .addSelect('pk.name', 'name')
      .from('packages', 'pk')
      .where('pk.package_type = :packageType AND pk.status IN (:...statuses)', { packageType, statuses: [...INSTALLABLE_STATUSES] })
      .distinctOn(['pk.normalized_name'])
      .orderBy('pk.normalized_name')
      .addOrderBy('pk.id', 'DESC');
    return this.inScope(qb, 'pk', scope).getRawMany();
  }

  /** Live versions of one name across a scope, oldest first. */
  async scopeVersions(
    scope: PackageScope,
    packageType: string,
    name: string,
    statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES,
  ): Promise<Package[]> {
    const qb = this.packagesNamed(packageType, name, statuses).orderBy('pk.created_at', 'ASC').addOrderBy('pk.id', 'ASC');
    return this.inScope(qb, 'pk', scope, name).getMany();
  }

  /**
   * A stamp that changes whenever any name (or the one name given) in the scope changes, and
   * whenever the set of readable projects holding them does; '' if there is nothing. Cache
   * scope-wide documents under it: callers who may read different projects get different stamps.
   */
  async scopeRevision(scope: PackageScope, packageType: string, name?: string): Promise<string> {
    const qb = this.ds
      .createQueryBuilder()
      .select(`count(*)`, 'n')
      .addSelect(
        `md5(coalesce(string_agg(pn.project_id || ':' || pn.normalized_name || ':' || pn.revision, ',' ORDER BY pn.project_id, pn.normalized_name), ''))`,
        'stamp',
      )
      .from('package_names', 'pn')
      .where('pn.package_type = :packageType', { packageType });
    if (name !== undefined) qb.andWhere('pn.normalized_name = :normalized', { normalized: this.normalizeName(packageType, name) });
    const row = await this.inScope(qb, 'pn', scope, name).getRawOne<{ n: string; stamp: string }>();
    return row && Number(row.n) > 0 ? `${row.n}-${row.stamp}` : '';
  }

  /**
   * The newest file of a live package of this type in the scope whose format-owned metadata
   * contains `contains` (jsonb containment: `{"k": [{"a": 1}]}` matches a file whose `k`
   * array holds an object with `a` = 1), with its package; null if none. For lookups by a
   * key a format keeps on file rows.
   */
  async findFileByMetadata(
    scope: PackageScope,
    packageType: string,
    contains: Record<string, unknown>,
  ): Promise<{ pkg: Package; file: PackageFile } | null> {
    const qb = this.ds
      .getRepository(PackageFile)
      .createQueryBuilder('pf')
      .innerJoin(Package, 'pk', 'pk.id = pf.package_id')
      .where('pk.package_type = :fmType AND pk.status IN (:...fmStatuses)', { fmType: packageType, fmStatuses: [...INSTALLABLE_STATUSES] })
      .andWhere('pf.metadata @> CAST(:fmContains AS jsonb)', { fmContains: JSON.stringify(contains) })
      .orderBy('pf.id', 'DESC');
    const file = await this.inScope(qb, 'pk', scope).getOne();
    if (!file) return null;
    const pkg = await this.ds.getRepository(Package).findOneBy({ id: file.package_id });
    return pkg ? { pkg, file } : null;
  }

  /**
   * Records a download of the package (`last_downloaded_at`) when the request is a GET (a HEAD
   * downloads nothing); at most once a minute per package and process, best effort, never
   * delaying the response.
   */
  markDownloaded(pkg: Pick<Package, 'id'>, request: { method: string }): void {
    if (request.method !== 'GET' || !this.downloads.take(pkg.id)) return;
    this.ds.query('UPDATE packages SET last_downloaded_at = now() WHERE id = $1', [pkg.id]).catch(() => undefined);
  }

  async deletePackage(pkg: Package): Promise<void> {
    await this.write((w) => w.deletePackage(pkg));
  }

  async deleteFile(pkg: Package, file: PackageFile): Promise<void> {
    await this.write((w) => w.deleteFiles(pkg, [file]));
  }
}

/** Whether a database error is a foreign-key violation on a row's `project_id`: its project is gone. */
function projectVanished(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  return code === '23503' && /_project_id_fkey$/.test(e.constraint ?? e.driverError?.constraint ?? '');
}
