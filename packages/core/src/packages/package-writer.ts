import type { EntityManager } from 'typeorm';

import type { AuditLog, PreparedAudit } from '../audit/audit-log';
import { markOrphans } from '../blobs/orphans';
import type { FormatRegistry } from '../plugin/format-registry';
import type { Digests } from '../storage/hashing-meter';
import { type DuplicateCheck, refuseDuplicate } from './duplicate-policy';
import { Package } from './package.entity';
import { PackageFile } from './package-file.entity';
import type { PackageStatus } from './package-status';

export interface UpsertPackage {
  projectId: number;
  packageType: string;
  name: string;
  version: string;
  /** Set on creation; on an existing package only when given. */
  status?: PackageStatus;
  /** Set on creation only; use update() to change an existing package's metadata. */
  metadata?: Record<string, unknown>;
  /** From `PackageService.checkDuplicate`: refused here, under the row's lock, if it is a duplicate. */
  duplicates?: DuplicateCheck;
}

export interface NewFile {
  fileName: string;
  blob: Pick<Digests, 'sha256' | 'md5' | 'sha1' | 'sha512' | 'size'>;
  metadata?: Record<string, unknown>;
}

type Row = Record<string, unknown>;

const packageDetails = (pkg: Package) => ({
  package_id: pkg.id,
  package_type: pkg.package_type,
  package_name: pkg.name,
  package_version: pkg.version,
});

function toPackage(m: EntityManager, row: Row): Package {
  return m.getRepository(Package).create(row as Partial<Package>);
}

/**
 * The write side of PackageService, bound to one transaction. Every change goes through
 * here so that the revisions of touched names are bumped in one place.
 */
export class PackageWriter {
  private readonly touched = new Map<string, { projectId: number; packageType: string; normalizedName: string }>();

  /** Audit events of this transaction's deletions: stored in it, logged once it commits (`PackageService.write`). */
  readonly audits: PreparedAudit[] = [];

  constructor(
    readonly manager: EntityManager,
    private readonly formats: FormatRegistry,
    private readonly audit: AuditLog,
  ) {}

  private note(pkg: Pick<Package, 'project_id' | 'package_type' | 'normalized_name'>): void {
    const key = `${pkg.project_id}\u0000${pkg.package_type}\u0000${pkg.normalized_name}`;
    this.touched.set(key, { projectId: pkg.project_id, packageType: pkg.package_type, normalizedName: pkg.normalized_name });
  }

  /**
   * The live package for this name and version, created if missing. Concurrent callers get
   * the same row, and the row stays locked until the transaction ends. With `duplicates`, an
   * upload the duplicate rule refuses throws its refusal (the transaction rolls back).
   */
  async upsertPackage(input: UpsertPackage): Promise<{ pkg: Package; created: boolean }> {
    const format = this.formats.get(input.packageType);
    const [row] = await this.manager.query(
      `INSERT INTO packages (project_id, package_type, name, normalized_name, version, normalized_version, status, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (project_id, package_type, normalized_name, normalized_version) WHERE status <> 'pending_destruction'
       DO UPDATE SET updated_at = now()${input.status ? ', status = EXCLUDED.status' : ''}
       RETURNING *, (xmax = 0) AS created`,
      [
        input.projectId,
        input.packageType,
        input.name,
        format.normalizeName(input.name),
        input.version,
        input.version === '' ? '' : format.normalizeVersion(input.version),
        input.status ?? 'default',
        input.metadata ?? {},
      ],
    );
    const { created, ...rest } = row as Row & { created: boolean };
    const pkg = toPackage(this.manager, rest);
    if (input.duplicates) await refuseDuplicate(this.manager, input.duplicates, created ? null : pkg);
    this.note(pkg);
    return { pkg, created: Boolean(created) };
  }

  async update(pkg: Package, patch: { status?: PackageStatus; metadata?: Record<string, unknown> }): Promise<Package> {
    const sets: string[] = ['updated_at = now()'];
    const params: unknown[] = [pkg.id];
    if (patch.status) sets.push(`status = $${params.push(patch.status)}`);
    if (patch.metadata) sets.push(`metadata = $${params.push(patch.metadata)}`);
    const [rows] = await this.manager.query(`UPDATE packages SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
    const updated = toPackage(this.manager, (rows as Row[])[0]);
    this.note(updated);
    return updated;
  }

  async files(pkg: Package, fileName?: string): Promise<PackageFile[]> {
    const where = fileName === undefined ? { package_id: pkg.id } : { package_id: pkg.id, file_name: fileName };
    return this.manager.getRepository(PackageFile).find({ where, order: { id: 'ASC' } });
  }

  async addFile(pkg: Package, file: NewFile): Promise<PackageFile> {
    const repo = this.manager.getRepository(PackageFile);
    const saved = await repo.save(
      repo.create({
        package_id: pkg.id,
        file_name: file.fileName,
        size: file.blob.size,
        file_sha256: file.blob.sha256,
        file_md5: file.blob.md5,
        file_sha1: file.blob.sha1,
        file_sha512: file.blob.sha512,
        metadata: file.metadata ?? {},
      }),
    );
    await this.manager.query('UPDATE blobs SET orphaned_at = NULL WHERE sha256 = $1', [file.blob.sha256]);
    this.note(pkg);
    return saved;
  }

  async removeFiles(pkg: Package, files: PackageFile[]): Promise<void> {
    if (!files.length) return;
    const ids = files.map((f) => f.id);
    await this.manager.query('DELETE FROM package_files WHERE id = ANY($1)', [ids]);
    await this.markOrphans(files.map((f) => f.file_sha256));
    this.note(pkg);
  }

  /**
   * Removes files a user deleted (the Packages API, a format's delete of part of a package), with
   * an audit event; `removeFiles` is for files an upload replaces.
   */
  async deleteFiles(pkg: Package, files: PackageFile[]): Promise<void> {
    if (!files.length) return;
    await this.removeFiles(pkg, files);
    this.audits.push(
      this.audit.prepare({
        action: 'package_file_deleted',
        entity: { type: 'Project', id: pkg.project_id },
        target: { type: 'Packages::PackageFile', id: files[0].id, details: files.map((f) => f.file_name).join(', ') },
        message: `Deleted ${files.length === 1 ? 'file' : `${files.length} files`} of ${pkg.package_type} package ${pkg.name}@${pkg.version}`,
        details: { ...packageDetails(pkg), file_ids: files.map((f) => String(f.id)), file_names: files.map((f) => f.file_name) },
      }),
    );
  }

  /** Deletes a package, its files and tags (every deletion of a package is audited: by a user, a client or a job). */
  async deletePackage(pkg: Package): Promise<void> {
    const shas: { file_sha256: string }[] = await this.manager.query('SELECT file_sha256 FROM package_files WHERE package_id = $1', [
      pkg.id,
    ]);
    await this.manager.query('DELETE FROM packages WHERE id = $1', [pkg.id]);
    await this.markOrphans(shas.map((r) => r.file_sha256));
    this.note(pkg);
    this.audits.push(
      this.audit.prepare({
        action: 'package_deleted',
        entity: { type: 'Project', id: pkg.project_id },
        target: { type: 'Packages::Package', id: pkg.id, details: `${pkg.name}@${pkg.version}` },
        message: `Deleted ${pkg.package_type} package ${pkg.name}@${pkg.version}`,
        details: packageDetails(pkg),
      }),
    );
  }

  /** Points `tag` of the package's name at this package (moving it if it exists). */
  async setTag(pkg: Package, tag: string): Promise<void> {
    await this.manager.query(
      `INSERT INTO package_tags (package_id, project_id, package_type, normalized_name, name)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (project_id, package_type, normalized_name, name)
       DO UPDATE SET package_id = EXCLUDED.package_id, updated_at = now()`,
      [pkg.id, pkg.project_id, pkg.package_type, pkg.normalized_name, tag],
    );
    this.note(pkg);
  }

  /** Returns whether the tag existed. */
  async removeTag(ref: { projectId: number; packageType: string; normalizedName: string }, tag: string): Promise<boolean> {
    const [, count] = await this.manager.query(
      'DELETE FROM package_tags WHERE project_id = $1 AND package_type = $2 AND normalized_name = $3 AND name = $4',
      [ref.projectId, ref.packageType, ref.normalizedName, tag],
    );
    if (count) this.note({ project_id: ref.projectId, package_type: ref.packageType, normalized_name: ref.normalizedName });
    return count > 0;
  }

  private markOrphans(shas: string[]): Promise<void> {
    return markOrphans(this.manager, shas);
  }

  /** Bumps the revision of every name this transaction touched (called before commit). */
  async bumpRevisions(): Promise<void> {
    for (const t of this.touched.values()) {
      await this.manager.query(
        `INSERT INTO package_names (project_id, package_type, normalized_name) VALUES ($1, $2, $3)
         ON CONFLICT (project_id, package_type, normalized_name)
         DO UPDATE SET revision = package_names.revision + 1, changed_at = now()`,
        [t.projectId, t.packageType, t.normalizedName],
      );
    }
  }
}
