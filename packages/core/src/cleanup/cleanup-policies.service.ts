import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { StowageConfig } from '../config';
import {
  type CleanupPolicy,
  type CleanupPolicyRules,
  DEFAULT_RULES,
  type KeepNDuplicatedPackageFiles,
  policyActive,
} from './cleanup-policy';

/** A run may hold a project's policy this long; a server that died mid-run frees it when it lapses. */
const LEASE_MINUTES = 30;

interface PolicyRow {
  project_id: number;
  keep_n_duplicated_package_files: string;
  keep_n_versions: number | null;
  not_downloaded_for_days: number | null;
  package_name_regex: string | null;
  package_type: string | null;
  next_run_at: Date | string | null;
  last_run_at: Date | string | null;
}

const date = (v: Date | string | null) => (v === null ? null : new Date(v));

function toPolicy(row: PolicyRow): CleanupPolicy {
  return {
    projectId: Number(row.project_id),
    keepNDuplicatedPackageFiles: row.keep_n_duplicated_package_files as KeepNDuplicatedPackageFiles,
    keepNVersions: row.keep_n_versions === null ? null : Number(row.keep_n_versions),
    notDownloadedForDays: row.not_downloaded_for_days === null ? null : Number(row.not_downloaded_for_days),
    packageNameRegex: row.package_name_regex,
    packageType: row.package_type,
    nextRunAt: date(row.next_run_at),
    lastRunAt: date(row.last_run_at),
  };
}

const ACTIVE_SQL = `(keep_n_duplicated_package_files <> 'all' OR keep_n_versions IS NOT NULL OR not_downloaded_for_days IS NOT NULL)`;

/**
 * Reads and writes `packages_cleanup_policies`, and leases a project's policy to one run at a
 * time across every server sharing the database: a run claims the row (`lease_owner`,
 * `lease_until`) in one UPDATE, and only the owner's release sets the next run.
 */
@Injectable()
export class CleanupPolicies {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  /** Seconds between two runs of a project's policy (`packages.cleanup_interval`). */
  get intervalSeconds(): number {
    return this.config.packages.cleanup_interval;
  }

  /** The project's policy; the defaults (nothing runs) when it never set one. */
  async get(projectId: number): Promise<CleanupPolicy> {
    const [row] = await this.ds.query('SELECT * FROM packages_cleanup_policies WHERE project_id = $1', [projectId]);
    return row ? toPolicy(row as PolicyRow) : { projectId, ...DEFAULT_RULES, nextRunAt: null, lastRunAt: null };
  }

  /**
   * Applies `patch`. A policy that becomes active, or whose rules change, runs one interval
   * from now (GitLab sets `next_run_at` the same way); an inactive one is never due.
   */
  async update(projectId: number, patch: Partial<CleanupPolicyRules>): Promise<CleanupPolicy> {
    const current = await this.get(projectId);
    const rules: CleanupPolicyRules = {
      keepNDuplicatedPackageFiles: patch.keepNDuplicatedPackageFiles ?? current.keepNDuplicatedPackageFiles,
      keepNVersions: patch.keepNVersions !== undefined ? patch.keepNVersions : current.keepNVersions,
      notDownloadedForDays: patch.notDownloadedForDays !== undefined ? patch.notDownloadedForDays : current.notDownloadedForDays,
      packageNameRegex: patch.packageNameRegex !== undefined ? patch.packageNameRegex : current.packageNameRegex,
      packageType: patch.packageType !== undefined ? patch.packageType : current.packageType,
    };
    const changed = (Object.keys(rules) as (keyof CleanupPolicyRules)[]).some((k) => rules[k] !== current[k]);
    const next = !policyActive(rules) ? 'never' : changed || !current.nextRunAt ? 'later' : 'unchanged';
    const [row] = await this.ds.query(
      `INSERT INTO packages_cleanup_policies AS c
         (project_id, keep_n_duplicated_package_files, keep_n_versions, not_downloaded_for_days, package_name_regex, package_type, next_run_at)
       VALUES ($1, $2, $3, $4, $5, $6,
         CASE $7::text WHEN 'never' THEN NULL WHEN 'later' THEN now() + make_interval(secs => $8::float8) ELSE $9::timestamptz END)
       ON CONFLICT (project_id) DO UPDATE SET
         keep_n_duplicated_package_files = EXCLUDED.keep_n_duplicated_package_files, keep_n_versions = EXCLUDED.keep_n_versions,
         not_downloaded_for_days = EXCLUDED.not_downloaded_for_days, package_name_regex = EXCLUDED.package_name_regex,
         package_type = EXCLUDED.package_type, next_run_at = EXCLUDED.next_run_at, updated_at = now()
       RETURNING *`,
      [
        projectId,
        rules.keepNDuplicatedPackageFiles,
        rules.keepNVersions,
        rules.notDownloadedForDays,
        rules.packageNameRegex,
        rules.packageType,
        next,
        this.intervalSeconds,
        current.nextRunAt,
      ],
    );
    return toPolicy(row as PolicyRow);
  }

  /** Leases the most overdue policy no run holds; null when none is due. */
  async claimDue(owner: string): Promise<CleanupPolicy | null> {
    const rows: PolicyRow[] = await this.ds.query(
      `UPDATE packages_cleanup_policies SET lease_owner = $1, lease_until = now() + make_interval(mins => ${LEASE_MINUTES})
       WHERE project_id = (
         SELECT project_id FROM packages_cleanup_policies
         WHERE next_run_at <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner],
    );
    return firstPolicy(rows);
  }

  /** Leases this project's policy whether due or not (a run asked for now); null when it has none or a run holds it. */
  async claim(projectId: number, owner: string): Promise<CleanupPolicy | null> {
    const rows: PolicyRow[] = await this.ds.query(
      `UPDATE packages_cleanup_policies SET lease_owner = $2, lease_until = now() + make_interval(mins => ${LEASE_MINUTES})
       WHERE project_id = $1 AND (lease_until IS NULL OR lease_until < now())
       RETURNING *`,
      [projectId, owner],
    );
    return firstPolicy(rows);
  }

  /**
   * Ends the owner's lease and sets the next run: one interval from now, or now when the run
   * stopped before finishing (`again`); never for a policy with no active rule.
   */
  async release(projectId: number, owner: string, opts: { again?: boolean } = {}): Promise<void> {
    await this.ds.query(
      `UPDATE packages_cleanup_policies SET lease_owner = NULL, lease_until = NULL, last_run_at = now(),
         next_run_at = CASE WHEN ${ACTIVE_SQL} THEN now() + make_interval(secs => $3::float8) END
       WHERE project_id = $1 AND lease_owner = $2`,
      [projectId, owner, opts.again ? 0 : this.intervalSeconds],
    );
  }
}

// UPDATE … RETURNING answers [rows, count] through TypeORM's query() on PostgreSQL.
function firstPolicy(result: unknown): CleanupPolicy | null {
  const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as PolicyRow[];
  return rows.length ? toPolicy(rows[0]) : null;
}
