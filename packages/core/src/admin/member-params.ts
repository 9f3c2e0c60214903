import { MEMBER_ACCESS_LEVELS } from '../auth/access-level';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';

export function memberParams(query: unknown, body: unknown) {
  const p = new ApiParams(query, body);
  const userId = p.integer('user_id', { required: true });
  const accessLevel = p.integer('access_level', { required: true });
  if (!MEMBER_ACCESS_LEVELS.includes(accessLevel)) throw httpErrors.invalidParam('access_level', 'does not have a valid value');
  const expires = p.date('expires_at');
  return { userId, accessLevel, expiresAt: expires ? expires.toISOString().slice(0, 10) : null };
}
