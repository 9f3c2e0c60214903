import type { Package } from '@stowage/core';

/** The upload-form fields kept on a package, under GitLab's GraphQL `PypiMetadata` names. */
const FIELDS = [
  ['required_python', 'requires_python'],
  ['summary', 'summary'],
  ['keywords', 'keywords'],
  ['author_email', 'author_email'],
  ['description', 'description'],
  ['description_content_type', 'description_content_type'],
  ['metadata_version', 'metadata_version'],
] as const;

export type PypiMetadata = Record<(typeof FIELDS)[number][0], string | null>;

/**
 * The kept upload-form fields of a package (the newest upload's, over-long ones truncated at
 * upload), each a string or null when the upload had none; `required_python` is '' then.
 */
export function pypiMetadata(pkg: Package): PypiMetadata {
  const meta = pkg.metadata ?? {};
  const out = {} as PypiMetadata;
  for (const [key, stored] of FIELDS) out[key] = typeof meta[stored] === 'string' ? (meta[stored] as string) : null;
  out.required_python ??= '';
  return out;
}

/**
 * `pypi_metadata` in the Packages API's package JSON. GitLab's REST entity has no such key
 * (GitLab shows these fields through GraphQL's PypiMetadata only); Stowage adds it to
 * `GET /projects/:id/packages/:package_id`.
 */
export function pypiPackageDetails(pkg: Package): Record<string, unknown> {
  return { pypi_metadata: pypiMetadata(pkg) };
}
