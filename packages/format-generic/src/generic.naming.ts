import { httpErrors } from '@stowage/core';

/** The package_type of this format's packages (and its `formats.<name>` config key). */
export const GENERIC = 'generic';

// GitLab's rules for generic packages: names of letters, digits and `._+-`; versions of word
// characters and `+.-` without `..`; file names may also hold `~` and `@`, not at either end
// (https://docs.gitlab.com/user/packages/generic_packages/#publish-a-package).
const PACKAGE_NAME = /^[A-Za-z0-9._+-]+$/;
const VERSION = /^(?!.*\.\.)[\w+.-]+$/;
/** Letters, digits and `. _ - + ~ @`, not starting or ending with `~` or `@`. */
const FILE_SEGMENT = /^(?![~@])[A-Za-z0-9._+~@-]+(?<![~@])$/;
const MAX_LENGTH = 255;

export interface GenericTarget {
  name: string;
  version: string;
  /** As GitLab stores it: the path joined and URI-encoded when it has directories. */
  fileName: string;
  /** The last path segment: what a download is offered as. */
  baseName: string;
}

/**
 * Validates the URL parts of a generic upload or download. The router has decoded them
 * already, so `%2e%2e%2f` arrives here as `../` and is refused like the literal form.
 */
export function genericTarget(params: { package_name?: string; package_version?: string; path?: string }): GenericTarget {
  const name = params.package_name ?? '';
  const version = params.package_version ?? '';
  const path = params.path ?? '';
  if (!PACKAGE_NAME.test(name) || name.length > MAX_LENGTH || name === '.' || name === '..') {
    throw httpErrors.invalidParam('package_name');
  }
  if (!VERSION.test(version) || version.length > MAX_LENGTH) throw httpErrors.invalidParam('package_version');
  const segments = path.split('/');
  const valid = segments.every((s) => s !== '.' && s !== '..' && FILE_SEGMENT.test(s));
  if (!valid || path.length > 1024) throw httpErrors.invalidParam('file_name');
  return {
    name,
    version,
    fileName: segments.length > 1 ? encodeURIComponent(path) : path,
    baseName: segments[segments.length - 1],
  };
}
