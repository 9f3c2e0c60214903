/**
 * GitLab's API names Go packages `golang`; Stowage's format is `go` (its `formats.go` config key
 * and the package_type its rows keep). The one place the two spellings meet: every `package_type`
 * a client sends or reads goes through here.
 */
const API_NAMES: Readonly<Record<string, string>> = { go: 'golang' };
const FORMAT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(API_NAMES).map(([f, a]) => [a, f]));

/** The `package_type` GitLab's API shows for packages of this format. */
export function apiPackageType(format: string): string {
  return API_NAMES[format] ?? format;
}

/** The format (and stored package_type) an API `package_type` names. */
export function formatPackageType(apiType: string): string {
  return FORMAT_NAMES[apiType] ?? apiType;
}
