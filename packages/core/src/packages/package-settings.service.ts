import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { FormatRegistry } from '../plugin/format-registry';
import type { ProjectContext } from '../projects/project-context';
import { UntrustedRegex, UntrustedRegexError } from '../text/untrusted-regex';

export interface DuplicateSettings {
  duplicates_allowed: boolean;
  duplicate_exception_regex: string;
}

export type SettingsOwner = { projectId: number; traversalIds: number[] } | { namespaceId: number; traversalIds: number[] };

export const MAX_EXCEPTION_REGEX = 255;

/** Why a duplicate exception regex cannot be saved (GitLab's wording for RE2's refusal), or null. */
export function exceptionRegexProblem(regex: string): string | null {
  if (regex.length > MAX_EXCEPTION_REGEX) return `is too long (maximum is ${MAX_EXCEPTION_REGEX} characters)`;
  const problem = UntrustedRegex.problem(regex);
  return problem ? `is not valid RE2 syntax: ${problem}` : null;
}

const logger = new Logger('packages');

/**
 * GitLab's duplicate rule: a duplicate is allowed when `duplicates_allowed` XOR the exception
 * regex matches the whole package name or version. The regex runs on RE2 (linear time). One
 * saved before RE2 became the contract and that RE2 refuses is no exception (logged).
 */
export function duplicateAllowed(settings: DuplicateSettings, name: string, version: string): boolean {
  const { duplicate_exception_regex: regex } = settings;
  let exception = false;
  if (regex !== '') {
    try {
      const re = UntrustedRegex.compile(regex);
      exception = re.matchesWhole(name) || re.matchesWhole(version);
    } catch (err) {
      if (!(err instanceof UntrustedRegexError)) throw err;
      logger.warn({ regex, problem: err.message }, 'duplicate exception regex is not valid RE2; applying the rule without the exception');
    }
  }
  return settings.duplicates_allowed !== exception;
}

/** Per-format duplicate settings of projects and groups; the nearest one set wins. */
@Injectable()
export class PackageSettingsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly formats: FormatRegistry,
  ) {}

  /** The settings in force for an owner: its own row, else the nearest group's, else the default. */
  async effective(owner: SettingsOwner, packageType: string): Promise<DuplicateSettings> {
    const projectId = 'projectId' in owner ? owner.projectId : -1;
    const rows: (DuplicateSettings & { project_id: number | null; namespace_id: number | null })[] = await this.ds.query(
      `SELECT project_id, namespace_id, duplicates_allowed, duplicate_exception_regex FROM package_settings
       WHERE package_type = $1 AND (project_id = $2 OR namespace_id = ANY($3::int[]))`,
      [packageType, projectId, owner.traversalIds],
    );
    const depth = (r: { project_id: number | null; namespace_id: number | null }) =>
      r.project_id !== null ? Infinity : owner.traversalIds.indexOf(r.namespace_id!);
    const nearest = rows.sort((a, b) => depth(b) - depth(a))[0];
    return {
      duplicates_allowed: nearest?.duplicates_allowed ?? this.formats.get(packageType).duplicatesAllowedByDefault,
      duplicate_exception_regex: nearest?.duplicate_exception_regex ?? '',
    };
  }

  async duplicatesAllowed(ctx: ProjectContext, packageType: string, name: string, version: string): Promise<boolean> {
    const settings = await this.effective({ projectId: ctx.project.id, traversalIds: ctx.namespace.traversal_ids }, packageType);
    return duplicateAllowed(settings, name, version);
  }

  async update(owner: SettingsOwner, packageType: string, patch: Partial<DuplicateSettings>): Promise<DuplicateSettings> {
    const next = { ...(await this.effective(owner, packageType)), ...patch };
    const [column, id] = 'projectId' in owner ? ['project_id', owner.projectId] : ['namespace_id', owner.namespaceId];
    await this.ds.query(
      `INSERT INTO package_settings (${column}, package_type, duplicates_allowed, duplicate_exception_regex)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (${column}, package_type) WHERE ${column} IS NOT NULL
       DO UPDATE SET duplicates_allowed = EXCLUDED.duplicates_allowed, duplicate_exception_regex = EXCLUDED.duplicate_exception_regex`,
      [id, packageType, next.duplicates_allowed, next.duplicate_exception_regex],
    );
    return next;
  }
}
