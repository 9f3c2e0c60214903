import type { Package } from '@stowage/core';

/** The upload-form fields kept on a package, under GitLab's GraphQL `PypiMetadata` names. */
const FIELDS: [key: string, stored: string][] = [
  ['required_python', 'requires_python'],
  ['summary', 'summary'],
  ['keywords', 'keywords'],
  ['author_email', 'author_email'],
  ['description', 'description'],
  ['description_content_type', 'description_content_type'],
  ['metadata_version', 'metadata_version'],
];

/**
 * `pypi_metadata` in the Packages API's package JSON. GitLab's REST entity has no such key
 * (GitLab shows these fields through GraphQL's PypiMetadata only); Stowage adds it to
 * `GET /projects/:id/packages/:package_id`. Values are the newest upload's (over-long ones truncated at upload).
 */
export function pypiPackageDetails(pkg: Package): Record<string, unknown> {
  const meta = pkg.metadata ?? {};
  const out: Record<string, string | null> = {};
  for (const [key, stored] of FIELDS) out[key] = typeof meta[stored] === 'string' ? (meta[stored] as string) : null;
  out.required_python ??= '';
  return { pypi_metadata: out };
}
