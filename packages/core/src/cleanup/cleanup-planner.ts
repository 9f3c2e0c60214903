import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import type { PackageStatus } from '../packages/package-status';
import { UntrustedRegex } from '../text/untrusted-regex';
import { type CleanupCandidate, CleanupGuards } from './cleanup-guards';
import { type CleanupPolicy, policyActive } from './cleanup-policy';

/** Statuses a cleanup may delete: every live one but `processing` (an upload still being written). */
export const CLEANABLE_STATUSES: readonly PackageStatus[] = ['default', 'hidden', 'deprecated', 'error'];

export type VersionReason = 'keep_n_versions' | 'not_downloaded_for_days';

export interface PlannedFile {
  id: number;
  file_name: string;
  size: number;
  file_sha256: string;
}

/** A package version the plan deletes whole, with what was read to decide it (re-checked before deleting). */
export interface PlannedPackage extends CleanupCandidate {
  reason: VersionReason;
  updated_at: Date;
  /** coalesce(last_downloaded_at, created_at) when planned. */
  used_at: Date;
  files: PlannedFile[];
}

/** A file deleted by `keep_n_duplicated_package_files`: `newer` files of its name in its package were newer. */
export interface PlannedDuplicate {
  package: CleanupCandidate;
  file: PlannedFile;
  newer: number;
}

export interface CleanupPlan {
  projectId: number;
  keepNDuplicatedPackageFiles: number | null;
  packages: PlannedPackage[];
  duplicates: PlannedDuplicate[];
  /** Bytes of the stored blobs that nothing but these files uses: what the blob collector frees afterwards. */
  bytesFreed: number;
}

type Row = Record<string, unknown>;

const candidate = (r: Row): CleanupCandidate => ({
  id: Number(r.id),
  project_id: Number(r.project_id),
  package_type: r.package_type as string,
  name: r.name as string,
  normalized_name: r.normalized_name as string,
  version: r.version as string,
});

const plannedFile = (r: Row): PlannedFile => ({
  id: Number(r.file_id),
  file_name: r.file_name as string,
  size: Number(r.size),
  file_sha256: r.file_sha256 as string,
});

/**
 * What a project's cleanup policy would delete now, read without changing anything: the dry
 * run shows it, a run deletes it. Rules, each restricted to `package_type` and to names
 * `package_name_regex` matches whole, never touching a package the guards protect:
 * - versions (a package with a version; versionless ones are name-level containers): with
 *   `keep_n_versions` alone, every version of a name but its newest N (by creation); with
 *   `not_downloaded_for_days`, every version last downloaded (or, never downloaded, created)
 *   longer ago, except the newest N when both are set;
 * - GitLab's `keep_n_duplicated_package_files`: in every package the version rules keep, per
 *   file name, every file but the newest N.
 */
@Injectable()
export class CleanupPlanner {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly guards: CleanupGuards,
  ) {}

  async plan(policy: CleanupPolicy): Promise<CleanupPlan> {
    const keepFiles = policy.keepNDuplicatedPackageFiles === 'all' ? null : Number(policy.keepNDuplicatedPackageFiles);
    const plan: CleanupPlan = {
      projectId: policy.projectId,
      keepNDuplicatedPackageFiles: keepFiles,
      packages: [],
      duplicates: [],
      bytesFreed: 0,
    };
    if (!policyActive(policy)) return plan;
    const regex = policy.packageNameRegex === null ? null : UntrustedRegex.compile(policy.packageNameRegex);
    const guarded = new Map<number, boolean>();
    const eligible = async (pkg: CleanupCandidate) => {
      if (regex && !regex.matchesWhole(pkg.name)) return false;
      if (!guarded.has(pkg.id)) guarded.set(pkg.id, await this.guards.protects(pkg));
      return !guarded.get(pkg.id);
    };

    if (policy.keepNVersions !== null || policy.notDownloadedForDays !== null) {
      for (const row of await this.versionRows(policy)) {
        const kept = policy.keepNVersions !== null && Number(row.rank) <= policy.keepNVersions;
        const doomed = policy.notDownloadedForDays === null ? !kept : row.stale === true && !kept;
        const pkg = candidate(row);
        if (!doomed || !(await eligible(pkg))) continue;
        plan.packages.push({
          ...pkg,
          reason: policy.notDownloadedForDays === null ? 'keep_n_versions' : 'not_downloaded_for_days',
          updated_at: new Date(row.updated_at as string),
          used_at: new Date(row.used_at as string),
          files: [],
        });
      }
      const files = await this.filesOf(plan.packages.map((p) => p.id));
      for (const p of plan.packages) p.files = files.get(p.id) ?? [];
    }

    if (keepFiles !== null) {
      const deleted = plan.packages.map((p) => p.id);
      for (const row of await this.duplicateRows(policy, keepFiles, deleted)) {
        const pkg = candidate(row);
        if (await eligible(pkg)) plan.duplicates.push({ package: pkg, file: plannedFile(row), newer: Number(row.rank) - 1 });
      }
    }
    plan.bytesFreed = await bytesFreed(this.ds.manager, planFiles(plan), { excluding: true });
    return plan;
  }

  /** Versioned packages in scope, each with its rank in its name (1 = newest) and whether it is stale. */
  private versionRows(policy: CleanupPolicy): Promise<Row[]> {
    return this.ds.query(
      `SELECT id, project_id, package_type, name, normalized_name, version, updated_at,
         coalesce(last_downloaded_at, created_at) AS used_at,
         coalesce(coalesce(last_downloaded_at, created_at) < now() - make_interval(days => $4::int), false) AS stale,
         row_number() OVER (PARTITION BY package_type, normalized_name ORDER BY created_at DESC, id DESC) AS rank
       FROM packages
       WHERE project_id = $1 AND status = ANY($2) AND version <> '' AND ($3::text IS NULL OR package_type = $3)
       ORDER BY id`,
      [policy.projectId, [...CLEANABLE_STATUSES], policy.packageType, policy.notDownloadedForDays ?? 0],
    );
  }

  private async filesOf(packageIds: number[]): Promise<Map<number, PlannedFile[]>> {
    const out = new Map<number, PlannedFile[]>();
    if (!packageIds.length) return out;
    const rows: Row[] = await this.ds.query(
      'SELECT package_id, id AS file_id, file_name, size, file_sha256 FROM package_files WHERE package_id = ANY($1) ORDER BY id',
      [packageIds],
    );
    for (const r of rows) out.set(Number(r.package_id), [...(out.get(Number(r.package_id)) ?? []), plannedFile(r)]);
    return out;
  }

  /** Files beyond the newest `keep` of their name in their package (packages the plan deletes whole left out). */
  private duplicateRows(policy: CleanupPolicy, keep: number, deleted: number[]): Promise<Row[]> {
    return this.ds.query(
      `SELECT * FROM (
         SELECT pk.id, pk.project_id, pk.package_type, pk.name, pk.normalized_name, pk.version,
           f.id AS file_id, f.file_name, f.size, f.file_sha256,
           row_number() OVER (PARTITION BY f.package_id, f.file_name ORDER BY f.id DESC) AS rank
         FROM package_files f JOIN packages pk ON pk.id = f.package_id
         WHERE pk.project_id = $1 AND pk.status = ANY($2) AND ($3::text IS NULL OR pk.package_type = $3) AND NOT (pk.id = ANY($4))
       ) d WHERE rank > $5 ORDER BY file_id`,
      [policy.projectId, [...CLEANABLE_STATUSES], policy.packageType, deleted, keep],
    );
  }
}

/** Every file a plan removes: those of the packages it deletes and the duplicates. */
export function planFiles(plan: Pick<CleanupPlan, 'packages' | 'duplicates'>): PlannedFile[] {
  return [...plan.packages.flatMap((p) => p.files), ...plan.duplicates.map((d) => d.file)];
}

/**
 * Bytes of the blobs of `files` that no other package file and no cached upstream file uses.
 * `excluding`: count as gone the rows of `files` (a plan, before it runs); otherwise they are gone already.
 */
export async function bytesFreed(manager: EntityManager, files: PlannedFile[], opts: { excluding: boolean }): Promise<number> {
  if (!files.length) return 0;
  const [row] = await manager.query(
    `SELECT coalesce(sum(b.size), 0) AS bytes FROM blobs b
     WHERE b.sha256 = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM package_files f WHERE f.file_sha256 = b.sha256 AND NOT (f.id = ANY($2)))
       AND NOT EXISTS (SELECT 1 FROM remote_files r WHERE r.file_sha256 = b.sha256)`,
    [[...new Set(files.map((f) => f.file_sha256))], opts.excluding ? files.map((f) => f.id) : []],
  );
  return Number((row as { bytes: string }).bytes);
}
