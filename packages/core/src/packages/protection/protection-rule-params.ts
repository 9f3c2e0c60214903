import { AccessLevel } from '../../auth/access-level';
import { ApiParams } from '../../http/api-params';
import { HttpError, httpErrors } from '../../http/http-error';
import { apiPackageType, formatPackageType } from '../package-types';

/** GitLab's `admin` level (`Gitlab::Access.sym_options_with_admin`): above every member role. */
export const ADMIN_LEVEL = 60;

const LEVELS: Record<string, number> = { maintainer: AccessLevel.MAINTAINER, owner: AccessLevel.OWNER, admin: ADMIN_LEVEL };
const LEVEL_NAMES = new Map(Object.entries(LEVELS).map(([name, level]) => [level, name]));
/** GitLab's values: push may be held back from Developers, delete from Maintainers. */
const PUSH_LEVELS = ['maintainer', 'owner', 'admin'] as const;
const DELETE_LEVELS = ['owner', 'admin'] as const;

/**
 * GitLab's rule package types (its `Packages::Protection::Rule.package_types`) and Stowage's
 * built-in formats' (`composer`, `golang`), whether enabled or not; an installed third-party
 * format's name is added to them.
 */
const RULE_TYPES = ['composer', 'conan', 'generic', 'golang', 'helm', 'maven', 'npm', 'nuget', 'pypi'];

export const MAX_PATTERN_LENGTH = 255;

// GitLab's `protection_rules_npm_package_name_pattern_regex`: `*`, or an npm name (its scope a
// namespace path) with `*` wildcards in the name part.
const NAMESPACE_PATH = String.raw`(?:[a-zA-Z0-9_.][a-zA-Z0-9_.\-]{0,254}[a-zA-Z0-9_\-]|[a-zA-Z0-9_])(?<!\.git|\.atom)`;
const NPM_PATTERN = new RegExp(String.raw`^(?:\*|(?:@${NAMESPACE_PATH}/)?[-+._a-zA-Z0-9*]+)$`);
// GitLab's `protection_rules_pypi_package_name_pattern_regex` (`package_name_regex('*')`).
const PYPI_PATTERN = new RegExp(String.raw`^(?:\*|@?(?:[\w\-.+]*/)*[\w\-.]+@?(?:[\w\-.+]*/)*[\w\-.*]*)$`);

export interface RuleFields {
  package_name_pattern: string;
  /** Stowage's type (`go` for GitLab's `golang`). */
  package_type: string;
  minimum_access_level_for_push: number | null;
  minimum_access_level_for_delete: number | null;
}

/** The package types a rule may name, in GitLab's spelling. */
export function ruleTypes(formatNames: readonly string[]): string[] {
  return [...new Set([...RULE_TYPES, ...formatNames.map(apiPackageType)])].sort();
}

export function levelName(level: number | null): string | null {
  return level === null ? null : (LEVEL_NAMES.get(level) ?? null);
}

/**
 * The fields a POST or PATCH sets, with Grape's 400s: a missing required parameter, a value
 * outside its list. On PATCH only given fields are returned; a level sent as JSON `null`
 * clears it (GitLab: null means the default, Developers push and Maintainers delete).
 */
export function ruleParams(query: unknown, body: unknown, types: readonly string[], create: boolean): Partial<RuleFields> {
  const p = new ApiParams(query, body);
  const out: Partial<RuleFields> = {};
  const pattern = p.string('package_name_pattern', { required: create as true });
  if (pattern !== undefined) out.package_name_pattern = pattern;
  const type = p.oneOf('package_type', types, { required: create });
  if (type !== undefined) out.package_type = formatPackageType(type);
  const push = p.oneOf('minimum_access_level_for_push', PUSH_LEVELS);
  const del = p.oneOf('minimum_access_level_for_delete', DELETE_LEVELS);
  if (create && push === undefined && del === undefined) {
    throw new HttpError(400, {
      error: 'minimum_access_level_for_push, minimum_access_level_for_delete are missing, at least one parameter must be provided',
    });
  }
  if (push !== undefined) out.minimum_access_level_for_push = LEVELS[push];
  else if (create || sentNull(body, 'minimum_access_level_for_push')) out.minimum_access_level_for_push = null;
  if (del !== undefined) out.minimum_access_level_for_delete = LEVELS[del];
  else if (create || sentNull(body, 'minimum_access_level_for_delete')) out.minimum_access_level_for_delete = null;
  return out;
}

function sentNull(body: unknown, key: string): boolean {
  return typeof body === 'object' && body !== null && key in body && (body as Record<string, unknown>)[key] === null;
}

/**
 * GitLab's model validations of a whole rule (ActiveRecord's full messages, answered as
 * `422 {"message":{"error":[…]}}`); the name pattern rules of npm and PyPI are GitLab's.
 */
export function ruleProblems(rule: RuleFields): string[] {
  const problems: string[] = [];
  const pattern = rule.package_name_pattern;
  if (pattern.trim() === '') problems.push("Package name pattern can't be blank");
  else if ([...pattern].length > MAX_PATTERN_LENGTH) {
    problems.push(`Package name pattern is too long (maximum is ${MAX_PATTERN_LENGTH} characters)`);
  } else if (/[\u0000-\u001f\u007f]/.test(pattern)) problems.push('Package name pattern is invalid');
  else if (rule.package_type === 'npm' && !NPM_PATTERN.test(pattern)) {
    problems.push('Package name pattern should be a valid NPM package name with optional wildcard characters.');
  } else if (rule.package_type === 'pypi' && !PYPI_PATTERN.test(pattern)) {
    problems.push('Package name pattern should be a valid PyPI package name with optional wildcard characters.');
  }
  if (rule.minimum_access_level_for_push === null && rule.minimum_access_level_for_delete === null) {
    problems.push('A rule must have at least a minimum access role for push or delete.');
  }
  return problems;
}

export function unprocessable(problems: string[]): HttpError {
  return new HttpError(422, { message: { error: problems } });
}

export const TAKEN = 'Package name pattern has already been taken';

/** `:package_protection_rule_id` is an Integer in Grape: anything else is a 400. */
export function ruleId(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw httpErrors.invalidParam('package_protection_rule_id');
  return Number(raw);
}
