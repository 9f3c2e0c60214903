import { ApiParams } from '../http/api-params';

/** GitLab's rotated tokens expire after one week unless `expires_at` says otherwise. */
const DEFAULT_ROTATED_LIFETIME_MS = 7 * 86_400_000;

/** The new token's expiry on a rotation: `expires_at` (a date to come), or a week from now. */
export function rotationExpiry(query: unknown, body: unknown): Date {
  const p = new ApiParams(query, body);
  return p.expiry('expires_at') ?? new Date(Date.now() + DEFAULT_ROTATED_LIFETIME_MS);
}
