/**
 * GitLab's REST name of a package type and Stowage's: the same everywhere but Go, whose
 * format (and `formats.go` config key) is `go` and whose GitLab name is `golang`.
 */
const API_NAMES: Record<string, string> = { go: 'golang' };
const STORED_NAMES: Record<string, string> = Object.fromEntries(Object.entries(API_NAMES).map(([stored, api]) => [api, stored]));

/** The name the REST API shows for a stored `package_type`. */
export function apiPackageType(stored: string): string {
  return API_NAMES[stored] ?? stored;
}

/** The stored `package_type` for a name the REST API takes. */
export function storedPackageType(api: string): string {
  return STORED_NAMES[api] ?? api;
}
