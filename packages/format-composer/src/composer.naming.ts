import { HttpError, httpErrors } from '@stowage/core';

/** The package_type of this format's packages (and its `formats.<name>` config key). */
export const COMPOSER = 'composer';

// Composer's rules for names (https://getcomposer.org/doc/04-schema.md#name) and GitLab's for
// versions: a tag is strict SemVer, a branch `dev-<branch>` or `<x[.y…]>.x-dev`
// (https://docs.gitlab.com/user/packages/composer_repository/).

/** composer/composer's package-name rule (lower case only, as the schema requires). */
const NAME = /^[a-z0-9]([_.-]?[a-z0-9]+)*\/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$/;
const MAX_NAME = 255;
/** GitLab's strict SemVer for tagged versions: X.Y.Z[-pre][+build]. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
/** Dev versions: `dev-<branch>` or `<x[.y…]>.x-dev`. */
const DEV = /^(dev-[A-Za-z0-9._/-]+|(\d+\.)*(\d+|x)(\.x)?-dev)$/;
const MAX_VERSION = 255;

const validation = (detail: string) => new HttpError(400, { message: `400 Bad request - ${detail}` });

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name);
}

/** A name from composer.json, refused with the rule composer users know. */
export function packageName(value: unknown): string {
  if (value === undefined || value === null || value === '') throw validation('composer.json has no "name"; add "name": "vendor/package"');
  if (typeof value !== 'string' || !isValidName(value)) {
    throw validation(
      `composer.json "name" ${JSON.stringify(value)} is invalid: use "vendor/package", lower case, with letters, digits and . _ - as separators`,
    );
  }
  return value;
}

export function isDevVersion(version: string): boolean {
  return version.startsWith('dev-') || version.endsWith('-dev');
}

/** A version as given (a leading `v` stripped, as GitLab does for tags), validated. */
export function packageVersion(raw: string, from: string): string {
  const version = /^v\d/.test(raw) ? raw.slice(1) : raw;
  const ok = version.length <= MAX_VERSION && (isDevVersion(version) ? DEV.test(version) : SEMVER.test(version));
  if (!ok) {
    throw validation(`${from} ${JSON.stringify(raw)} is invalid: use SemVer (1.2.3, 1.2.3-beta.1) or a dev version (dev-main, 1.x-dev)`);
  }
  return version;
}

/** GitLab's tag → version: `v1.2.3` → `1.2.3`. */
export function versionFromTag(tag: string): string {
  return packageVersion(tag, 'tag');
}

/** GitLab's branch → version: `main` → `dev-main`, `v1.7` / `1.7.x` → `1.7.x-dev`. */
export function versionFromBranch(branch: string): string {
  const numbered = /^v?(\d+(?:\.\d+)*)(?:\.x)?$/.exec(branch);
  return packageVersion(numbered ? `${numbered[1]}.x-dev` : `dev-${branch}`, 'branch');
}

/** The stored file name of a version's archive. */
export function archiveFileName(name: string, version: string): string {
  return `${name.replace('/', '-')}-${version.replace(/[^A-Za-z0-9._+-]/g, '-')}.zip`;
}

/** The path of a group document, below `/api/v4/group/:id/-/packages/composer/`. */
export type ComposerDocument =
  { kind: 'root' } | { kind: 'p2'; name: string; dev: boolean } | { kind: 'providers' } | { kind: 'v1'; name: string };

const notFound = () => httpErrors.notFound();

/** Parses the wildcard of a group read (`packages.json`, `p2/v/n.json`, `p/<sha>.json`, `v/n$<sha>.json`). */
export function groupDocument(path: string): ComposerDocument {
  if (path === 'packages.json' || path === 'packages') return { kind: 'root' };
  const file = path.endsWith('.json') ? path.slice(0, -5) : path;
  const dollar = file.indexOf('$');
  if (dollar >= 0) {
    const name = file.slice(0, dollar);
    if (dollar === file.length - 1 || !isValidName(name)) throw notFound();
    return { kind: 'v1', name };
  }
  if (file.startsWith('p2/')) {
    const rest = file.slice(3);
    const dev = rest.endsWith('~dev');
    const name = dev ? rest.slice(0, -4) : rest;
    if (!isValidName(name)) throw notFound();
    return { kind: 'p2', name, dev };
  }
  if (/^p\/[^/]+$/.test(file)) return { kind: 'providers' };
  throw notFound();
}
