import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { apiPackageType, formatPackageType } from '../packages/package-types';
import { UntrustedRegex } from '../text/untrusted-regex';

/** GitLab's values of `keep_n_duplicated_package_files`; `all` keeps every file. */
export const KEEP_N_DUPLICATED_PACKAGE_FILES = ['all', '1', '10', '20', '30', '40', '50'] as const;
export type KeepNDuplicatedPackageFiles = (typeof KEEP_N_DUPLICATED_PACKAGE_FILES)[number];

const MAX_KEEP_N_VERSIONS = 10_000;
const MAX_DAYS = 36_500;
const MAX_NAME_REGEX = 255;

/** One project's packages cleanup policy (a project without a row has the defaults: nothing runs). */
export interface CleanupPolicy {
  projectId: number;
  /** GitLab's rule: per package and file name, keep the newest N files. */
  keepNDuplicatedPackageFiles: KeepNDuplicatedPackageFiles;
  /** Stowage's: per package name, the newest N versions are never deleted (and, alone, all older ones are). */
  keepNVersions: number | null;
  /** Stowage's: delete versions not downloaded (or, never downloaded, not created) for this many days. */
  notDownloadedForDays: number | null;
  /** Restricts every rule to packages whose whole name this RE2 pattern matches. */
  packageNameRegex: string | null;
  /** Restricts every rule to one format (its stored package_type, `go` for GitLab's `golang`). */
  packageType: string | null;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
}

export type CleanupPolicyRules = Omit<CleanupPolicy, 'projectId' | 'nextRunAt' | 'lastRunAt'>;

export const DEFAULT_RULES: CleanupPolicyRules = {
  keepNDuplicatedPackageFiles: 'all',
  keepNVersions: null,
  notDownloadedForDays: null,
  packageNameRegex: null,
  packageType: null,
};

/** Whether the policy has a rule that deletes anything (otherwise it is never scheduled). */
export function policyActive(rules: CleanupPolicyRules): boolean {
  return rules.keepNDuplicatedPackageFiles !== 'all' || rules.keepNVersions !== null || rules.notDownloadedForDays !== null;
}

/** The REST shape: GitLab's field names (`keep_n_duplicated_package_files`, `next_run_at`) and Stowage's rules beside them. */
export function policyJson(policy: CleanupPolicy) {
  return {
    keep_n_duplicated_package_files: policy.keepNDuplicatedPackageFiles,
    next_run_at: policy.nextRunAt?.toISOString() ?? null,
    keep_n_versions: policy.keepNVersions,
    not_downloaded_for_days: policy.notDownloadedForDays,
    package_name_regex: policy.packageNameRegex,
    package_type: policy.packageType === null ? null : apiPackageType(policy.packageType),
    last_run_at: policy.lastRunAt?.toISOString() ?? null,
  };
}

function boundedInteger(p: ApiParams, key: string, max: number): number | null {
  const n = p.integer(key);
  if (n === undefined) return null;
  if (n < 1 || n > max) throw httpErrors.invalidParam(key, 'does not have a valid value');
  return n;
}

/**
 * The rules a PUT changes, checked in full before anything is written. A key sent as `null`
 * or `''` clears a Stowage rule; an absent key leaves it.
 */
export function policyPatch(query: unknown, body: unknown, formats: string[]): Partial<CleanupPolicyRules> {
  const p = new ApiParams(query, body);
  const patch: Partial<CleanupPolicyRules> = {};
  const keep = p.oneOf('keep_n_duplicated_package_files', KEEP_N_DUPLICATED_PACKAGE_FILES);
  if (keep !== undefined) patch.keepNDuplicatedPackageFiles = keep;
  if (p.given('keep_n_versions')) patch.keepNVersions = boundedInteger(p, 'keep_n_versions', MAX_KEEP_N_VERSIONS);
  if (p.given('not_downloaded_for_days')) patch.notDownloadedForDays = boundedInteger(p, 'not_downloaded_for_days', MAX_DAYS);
  if (p.given('package_name_regex')) {
    const regex = p.string('package_name_regex', { max: MAX_NAME_REGEX }) ?? null;
    const problem = regex === null ? null : UntrustedRegex.problem(regex);
    if (problem) throw httpErrors.invalidParam('package_name_regex', `is not valid RE2 syntax: ${problem}`);
    patch.packageNameRegex = regex;
  }
  if (p.given('package_type')) {
    const type = p.oneOf('package_type', formats.map(apiPackageType));
    patch.packageType = type === undefined ? null : formatPackageType(type);
  }
  return patch;
}
