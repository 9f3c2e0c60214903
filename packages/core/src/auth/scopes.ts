/** `self_rotate`: the token may rotate itself (POST /personal_access_tokens/self/rotate) and do nothing else. */
export const TOKEN_SCOPES = ['api', 'read_api', 'read_package_registry', 'write_package_registry', 'read_user', 'self_rotate'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const DEPLOY_TOKEN_SCOPES = ['read_package_registry', 'write_package_registry'] as const;

export type PackageAction = 'read' | 'write' | 'delete';

/** Which scopes allow which package action. */
const SCOPES_FOR: Record<PackageAction, readonly string[]> = {
  read: ['api', 'read_api', 'read_package_registry', 'write_package_registry'],
  write: ['api', 'write_package_registry'],
  delete: ['api', 'write_package_registry'],
};

export function scopesAllow(scopes: readonly string[], action: PackageAction): boolean {
  return scopes.some((s) => SCOPES_FOR[action].includes(s));
}

/** The REST API outside the package endpoints (admin surface, Packages API). */
export function scopesAllowApi(scopes: readonly string[], write: boolean): boolean {
  return write ? scopes.includes('api') : scopes.includes('api') || scopes.includes('read_api');
}
