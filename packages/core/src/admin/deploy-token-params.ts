import { ApiParams } from '../http/api-params';

/** GitLab's deploy-token scopes; only the package-registry ones mean anything here. */
const DEPLOY_SCOPES = [
  'read_repository',
  'read_registry',
  'write_registry',
  'read_package_registry',
  'write_package_registry',
  'read_virtual_registry',
  'write_virtual_registry',
] as const;

export function deployTokenParams(query: unknown, body: unknown) {
  const p = new ApiParams(query, body);
  return {
    name: p.string('name', { required: true, max: 255 }),
    scopes: p.list('scopes', { required: true, allowed: DEPLOY_SCOPES })!,
    expiresAt: p.expiry('expires_at') ?? null,
    username: p.string('username', { max: 255 }),
  };
}
