import { httpErrors, UntrustedRegex } from '@stowage/core';

/** The package_type of this format's packages (and its `formats.<name>` config key). */
export const CONAN = 'conan';

// GitLab's rules for Conan references `name/version@user/channel`: each part 2 to 50 letters,
// digits and `_+.-`, not starting with one of `+.-`
// (https://docs.gitlab.com/user/packages/conan_repository/#package-recipe-naming-convention-for-instance-remotes).
const MAX_PART = 50;
const PART = /^[a-zA-Z0-9_][a-zA-Z0-9_+.-]{1,49}$/;
const PACKAGE_ID = /^[A-Za-z0-9]{1,64}$/;
const REVISION = /^(?:[0-9a-f]{32}|[0-9a-f]{40})$/;

export const RECIPE_FILES = ['conanfile.py', 'conanmanifest.txt', 'conan_export.tgz', 'conan_sources.tgz'] as const;
export const PACKAGE_FILES = ['conaninfo.txt', 'conanmanifest.txt', 'conan_package.tgz'] as const;
export type FileKind = 'recipe' | 'package';

/** `name/version@user/channel`; user and channel are `_` when absent (Conan 1 `hello/0.1`). */
export interface RecipeRef {
  name: string;
  version: string;
  user: string;
  channel: string;
}

/** Where a file lives: the recipe (revision), or one binary (package id and revision) of it. */
export interface FileSlot {
  kind: FileKind;
  recipeRevision: string;
  packageId?: string;
  packageRevision?: string;
}

export const badParam = (param: string) => httpErrors.invalidParam(param);

/** Validates the four URL segments of a reference; `_` is allowed for both user and channel, or the channel alone. */
export function recipeRef(params: { name?: string; version?: string; user?: string; channel?: string }): RecipeRef {
  const { name = '', version = '', user = '', channel = '' } = params;
  if (!PART.test(name)) throw badParam('package_name');
  if (!PART.test(version)) throw badParam('package_version');
  if (user !== '_' && !PART.test(user)) throw badParam('package_username');
  if (channel !== '_' && !PART.test(channel)) throw badParam('package_channel');
  // GitLab: a blank user with a real channel names nothing.
  if (user === '_' && channel !== '_') throw httpErrors.notFound('Package');
  return { name, version, user, channel };
}

/** The reference as Conan prints it: `hello/0.1@demo/stable`, or `hello/0.1` for `_/_`. */
export function refString(ref: RecipeRef): string {
  const base = `${ref.name}/${ref.version}`;
  return ref.user === '_' && ref.channel === '_' ? base : `${base}@${ref.user}/${ref.channel}`;
}

/** What the package row stores as its version: one package per name + version + user + channel. */
export function packageVersion(ref: RecipeRef): string {
  return `${ref.version}@${ref.user}/${ref.channel}`;
}

/** The reference back from a package row's name and version. */
export function refFromPackage(pkg: { name: string; version: string }): RecipeRef {
  const at = pkg.version.lastIndexOf('@');
  const [user, channel] = pkg.version.slice(at + 1).split('/');
  return { name: pkg.name, version: pkg.version.slice(0, at), user, channel };
}

/** URL path segments of a reference: `name/version/user/channel`. */
export function refPath(ref: RecipeRef): string {
  return `${ref.name}/${ref.version}/${ref.user}/${ref.channel}`;
}

export function packageId(value: string | undefined): string {
  if (!value || !PACKAGE_ID.test(value)) throw badParam('conan_package_reference');
  return value;
}

/** v2 revisions are the client's hashes: 32 (md5) or 40 (sha1) hex digits. */
export function revision(value: string | undefined, param = 'recipe_revision'): string {
  if (!value || !REVISION.test(value)) throw badParam(param);
  return value;
}

/** v1 revision segments are always the literal `0`. */
export function v1Revision(value: string | undefined): '0' {
  if (value !== '0') throw badParam('recipe_revision');
  return '0';
}

/** A file name from the whitelist of its kind (the router has decoded it: `..%2f` arrives as `../`). */
export function fileName(kind: FileKind, value: string | undefined): string {
  const allowed: readonly string[] = kind === 'recipe' ? RECIPE_FILES : PACKAGE_FILES;
  if (!value || !allowed.includes(value)) throw badParam('file_name');
  return value;
}

export function isFileOf(kind: FileKind, name: string): boolean {
  return (kind === 'recipe' ? (RECIPE_FILES as readonly string[]) : PACKAGE_FILES).includes(name);
}

/**
 * A search pattern (`hel*`, `hello/0.1@demo/*`): `*` is the wildcard, split on `/` and `@`
 * into name, version, user and channel. Matches case-insensitively unless told otherwise.
 */
export interface SearchPattern {
  /** The name part alone matches (to skip names before reading their versions). */
  matchesName(name: string): boolean;
  matches(ref: RecipeRef): boolean;
  /** The user part when it has no wildcard (the instance API resolves its project from it). */
  user?: string;
}

export function searchPattern(q: string | undefined, ignoreCase = true): SearchPattern {
  const text = (q ?? '').trim();
  if (text.length > 200) throw httpErrors.badRequest('Search term length must be less than 200 characters.');
  if ((text.match(/\*/g) ?? []).length > 5) throw httpErrors.badRequest('Too many wildcards in search term. Maximum is 5.');
  if (text === '' || text === '*') return { matchesName: () => true, matches: () => true };
  const [nameVersion, userChannel] = text.split('@', 2);
  const [name, version] = nameVersion.split('/', 2);
  const [user, channel] = (userChannel ?? '').split('/', 2);
  // On RE2 (linear): as a JS RegExp, `a*a*a*a*a*b` backtracked ~n^5 steps per 50-character name.
  const glob = (p: string | undefined, caseless = false): Pick<UntrustedRegex, 'matchesWhole'> | null => {
    if (p === undefined || p === '') return null;
    // More literal characters than a part can hold match nothing (and would only grow the program).
    if (p.replace(/\*/g, '').length > MAX_PART) return { matchesWhole: () => false };
    return UntrustedRegex.glob(p, { ignoreCase: caseless });
  };
  const parts = [glob(name, ignoreCase), glob(version), glob(user), glob(channel)];
  return {
    matchesName: (n) => parts[0]?.matchesWhole(n) ?? true,
    matches: (ref) => [ref.name, ref.version, ref.user, ref.channel].every((v, i) => parts[i]?.matchesWhole(v) ?? true),
    user: user && !user.includes('*') ? user : undefined,
  };
}
