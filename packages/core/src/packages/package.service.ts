import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, In } from 'typeorm';
import { PackageEvents } from '../events/package-events';
import { FormatRegistry } from '../plugin/format-registry';
import { FileStorage, type StoredBlob } from '../storage/file-storage.service';
import { Package } from './package.entity';
import { PackageFile } from './package-file.entity';
import { INSTALLABLE_STATUSES, type PackageStatus } from './package-status';
import { PackageWriter } from './package-writer';

export interface PackageName {
  projectId: number;
  packageType: string;
  name: string;
}

/**
 * The one place packages and their files are found, created, changed and deleted. Formats
 * read through the query methods and write inside `write()`, which runs one transaction,
 * bumps the revision of every name it touched, and emits events once it has committed.
 */
@Injectable()
export class PackageService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly formats: FormatRegistry,
    private readonly storage: FileStorage,
    private readonly events: PackageEvents,
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
    let writer: PackageWriter | undefined;
    try {
      const result = await this.ds.transaction(async (manager) => {
        writer = new PackageWriter(manager, this.formats);
        const value = await work(writer);
        await writer.bumpRevisions();
        return value;
      });
      for (const change of writer!.changes) this.events.emit(change);
      return result;
    } catch (err) {
      for (const blob of opts.blobs ?? []) await this.storage.release(blob).catch(() => undefined);
      throw err;
    }
  }

  /** The newest live package with this name and version (normalized comparison). */
  async findPackage(
    ref: PackageName & { version: string },
    statuses: readonly PackageStatus[] = INSTALLABLE_STATUSES,
  ): Promise<Package | null> {
    return this.ds.getRepository(Package).findOne({
      where: {
        project_id: ref.projectId,
        package_type: ref.packageType,
        normalized_name: this.normalizeName(ref.packageType, ref.name),
        normalized_version: this.normalizeVersion(ref.packageType, ref.version),
        status: In([...statuses]),
      },
      order: { id: 'DESC' },
    });
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

  /** The newest file of a package with exactly this name. */
  async findFile(packageId: number, fileName: string): Promise<PackageFile | null> {
    return this.ds.getRepository(PackageFile).findOne({ where: { package_id: packageId, file_name: fileName }, order: { id: 'DESC' } });
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

  /** Records a download; best effort, never delays the response. */
  markDownloaded(pkg: Package): void {
    this.ds.query('UPDATE packages SET last_downloaded_at = now() WHERE id = $1', [pkg.id]).catch(() => undefined);
  }

  async deletePackage(pkg: Package): Promise<void> {
    await this.write((w) => w.deletePackage(pkg));
  }

  async deleteFile(pkg: Package, file: PackageFile): Promise<void> {
    await this.write((w) => w.removeFiles(pkg, [file]));
  }
}
