import type { SelectQueryBuilder } from 'typeorm';

import type { Token } from '../auth/token.entity';
import { ApiParams } from '../http/api-params';

const SORTS = {
  created_asc: ['t.created_at', 'ASC'],
  created_desc: ['t.created_at', 'DESC'],
  expires_asc: ['t.expires_at', 'ASC'],
  expires_desc: ['t.expires_at', 'DESC'],
  last_used_asc: ['t.last_used_at', 'ASC'],
  last_used_desc: ['t.last_used_at', 'DESC'],
  name_asc: ['t.name', 'ASC'],
  name_desc: ['t.name', 'DESC'],
} as const;

/**
 * GitLab's filters on access-token listings (`access_token_params`: personal, project and group
 * access tokens), read from the query and applied to a query builder over tokens `t`.
 */
export function tokenFilters(query: unknown): (qb: SelectQueryBuilder<Token>) => void {
  const p = new ApiParams(query, {});
  const revoked = p.boolean('revoked');
  const state = p.oneOf('state', ['active', 'inactive'] as const);
  const createdBefore = p.date('created_before');
  const createdAfter = p.date('created_after');
  const lastUsedBefore = p.date('last_used_before');
  const lastUsedAfter = p.date('last_used_after');
  const expiresBefore = p.date('expires_before');
  const expiresAfter = p.date('expires_after');
  const search = p.string('search', { max: 255 });
  const sort = p.oneOf('sort', Object.keys(SORTS) as (keyof typeof SORTS)[]);
  return (qb) => {
    if (revoked !== undefined) qb.andWhere(revoked ? 't.revoked_at IS NOT NULL' : 't.revoked_at IS NULL');
    if (state === 'active') qb.andWhere('t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())');
    if (state === 'inactive') qb.andWhere('(t.revoked_at IS NOT NULL OR t.expires_at <= now())');
    if (createdBefore) qb.andWhere('t.created_at < :createdBefore', { createdBefore });
    if (createdAfter) qb.andWhere('t.created_at > :createdAfter', { createdAfter });
    if (lastUsedBefore) qb.andWhere('t.last_used_at < :lastUsedBefore', { lastUsedBefore });
    if (lastUsedAfter) qb.andWhere('t.last_used_at > :lastUsedAfter', { lastUsedAfter });
    if (expiresBefore) qb.andWhere('t.expires_at < :expiresBefore', { expiresBefore });
    if (expiresAfter) qb.andWhere('t.expires_at > :expiresAfter', { expiresAfter });
    // Not a pattern: `%` and `_` in the search are literal.
    if (search) qb.andWhere('strpos(lower(t.name), lower(:search)) > 0', { search });
    if (sort) qb.orderBy(SORTS[sort][0], SORTS[sort][1], SORTS[sort][0] === 't.name' ? undefined : 'NULLS LAST').addOrderBy('t.id', 'ASC');
    else qb.orderBy('t.id', 'ASC');
  };
}
