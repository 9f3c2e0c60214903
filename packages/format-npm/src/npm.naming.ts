import type { PackageScope } from '@stowage/core';

import { npmErrors } from './npm.errors';
import { isSemver } from './npm.semver';

/** The package_type of npm packages. */
export const NPM = 'npm';

// GitLab's npm name rule (`@scope/name` or `name`; the name of letters, digits and `-+._`;
// https://docs.gitlab.com/user/packages/npm_registry/#package-naming-convention), plus npm's
// own: at most 214 characters and no leading dot or underscore (which also keeps `.` and `..`
// out of names).
const NAMESPACE = String.raw`(?:[a-zA-Z0-9_.][a-zA-Z0-9_.-]{0,254}[a-zA-Z0-9_-]|[a-zA-Z0-9_])`;
const NAME = new RegExp(String.raw`^(?:@(${NAMESPACE})/)?([-+._a-zA-Z0-9]+)$`);
const MAX_NAME_LENGTH = 214;

export interface NpmName {
  /** `@scope/name` or `name`. */
  name: string;
  /** The scope without `@`, if any. */
  scope?: string;
}

/** A path piece as npm sends it (`@scope%2fname` or `@scope/name`), with the slash decoded. */
function decodeSlash(raw: string): string {
  return raw.replace(/%2f/gi, '/');
}

function assertValidPath(raw: string): void {
  if (/[\u0000-\u001f\u007f\\]/.test(raw) || raw.includes('//')) throw npmErrors.badRequest('package_name should be a valid file path');
}

/** Validates a package name; throws npm's 400 otherwise. */
export function npmName(raw: string): NpmName {
  const name = decodeSlash(raw);
  assertValidPath(name);
  const m = NAME.exec(name);
  const scope = m?.[1];
  const base = m?.[2] ?? '';
  const valid = m !== null && name.length <= MAX_NAME_LENGTH && !/^[._]/.test(base) && !(scope && /(\.git|\.atom)$/.test(scope));
  if (!valid) throw npmErrors.badRequest(`Validation failed: Name is invalid, Name should be a valid NPM package name: ${name}`);
  return scope ? { name, scope } : { name };
}

export function assertVersion(version: unknown): asserts version is string {
  if (typeof version !== 'string' || !version) throw npmErrors.badRequest('Version is empty.');
  if (!isSemver(version)) throw npmErrors.badRequest('Validation failed: Version should follow SemVer: https://semver.org');
}

/** Dist-tags are URL path segments and must not be mistaken for versions (npm refuses those too). */
export function assertTagName(tag: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(tag) || isSemver(tag) || /^v?\d/.test(tag)) {
    throw npmErrors.badRequest(`Tag name is invalid: ${tag}`);
  }
}

/** The file name a version's tarball is published and served under (GitLab's: scope included). */
export function tarballFileName(name: string, version: string): string {
  return `${name}-${version}.tgz`;
}

/** A name as one path segment, as registries spell it in URLs (`@scope%2fname`). */
export function encodedName(name: string): string {
  return name.replace('/', '%2f');
}

/** The npm registry URL of a scope, without a trailing slash: what tarball URLs in its packuments start with. */
export function registryUrl(baseUrl: string, scope: PackageScope): string {
  switch (scope.kind) {
    case 'project':
      return `${baseUrl}/api/v4/projects/${scope.projectId}/packages/npm`;
    case 'group':
      return `${baseUrl}/api/v4/groups/${scope.groupId}/-/packages/npm`;
    case 'instance':
      return `${baseUrl}/api/v4/packages/npm`;
  }
}

/** The URL a registry serves a version's tarball at (GitLab's shape: `<registry>/@scope/name/-/@scope/name-1.0.0.tgz`). */
export function tarballUrl(registry: string, name: string, version: string): string {
  return `${registry}/${name}/-/${tarballFileName(name, version)}`;
}

/** What a wildcard path under the npm prefix asks for. */
export type NpmPath =
  | { kind: 'packument'; pkg: NpmName }
  | { kind: 'tarball'; pkg: NpmName; fileName: string; version: string }
  | { kind: 'revision'; pkg: NpmName; rev: string }
  | { kind: 'tarball-revision'; pkg: NpmName; fileName: string; version: string; rev: string };

function tarball(pkg: NpmName, file: string): { fileName: string; version: string } {
  // Accept both GitLab's `@scope/name-1.0.0.tgz` and the public registry's `name-1.0.0.tgz`.
  const fileName = pkg.scope && !file.startsWith('@') ? `@${pkg.scope}/${file}` : file;
  const prefix = `${pkg.name}-`;
  if (!fileName.startsWith(prefix) || !fileName.endsWith('.tgz')) throw npmErrors.notFound();
  const version = fileName.slice(prefix.length, -'.tgz'.length);
  if (!isSemver(version)) throw npmErrors.notFound();
  return { fileName, version };
}

/**
 * Parses the rest of an npm URL: `name`, `@scope/name`, `<name>/-/<file>.tgz`, and the
 * CouchDB-style revision suffixes npm unpublish appends (`<name>/-rev/<rev>`,
 * `<tarball path>/-rev/<rev>`). A tarball path may repeat the registry prefix (npm
 * derives it from the tarball URL relative to its default registry), which is dropped.
 */
export function npmPath(raw: string): NpmPath {
  let path = decodeSlash(raw);
  assertValidPath(path);
  path = path.replace(/^\/?api\/v4\/projects\/[^/]+\/packages\/npm\//, '');
  // `-/…` is the registry's own namespace (whoami, ping, org APIs…), never a package.
  if (path.startsWith('-/')) throw npmErrors.notFound();
  const revAt = path.lastIndexOf('/-rev/');
  const rev = revAt >= 0 ? path.slice(revAt + '/-rev/'.length) : undefined;
  if (revAt >= 0) path = path.slice(0, revAt);
  const dash = path.indexOf('/-/');
  if (dash < 0) {
    const pkg = npmName(path);
    return rev === undefined ? { kind: 'packument', pkg } : { kind: 'revision', pkg, rev };
  }
  const pkg = npmName(path.slice(0, dash));
  const file = tarball(pkg, path.slice(dash + 3));
  return rev === undefined ? { kind: 'tarball', pkg, ...file } : { kind: 'tarball-revision', pkg, ...file, rev };
}

/** `<name>/dist-tags` or `<name>/dist-tags/<tag>` under `-/package/`. */
export function distTagPath(raw: string): { pkg: NpmName; tag?: string } {
  const m = /^(.+?)\/dist-tags(?:\/([^/]+))?$/.exec(decodeSlash(raw));
  if (!m) throw npmErrors.notFound();
  const tag = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  return { pkg: npmName(m[1]), tag };
}
