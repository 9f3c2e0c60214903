import type { FastifyReply, FastifyRequest } from 'fastify';

import { ApiParams } from './api-params';
import { httpErrors } from './http-error';

export interface Page {
  page: number;
  perPage: number;
  offset: number;
}

/** GitLab's `page`/`per_page` (default 20, at most 100). */
export function pageParams(query: unknown): Page {
  const p = new ApiParams(query, {});
  const page = p.integer('page') ?? 1;
  const perPage = p.integer('per_page') ?? 20;
  if (page < 1) throw httpErrors.invalidParam('page');
  const size = Math.min(Math.max(perPage, 1), 100);
  return { page, perPage: size, offset: (page - 1) * size };
}

const SECRET_PARAMS = ['private_token', 'job_token', 'deploy_token', 'access_token', 'token'];

/**
 * A request's query for a link the server hands out (next page, a feed's `next`): the same
 * parameters, minus every credential. Links are followed by any client and logged by proxies.
 * Keys arrive decoded (`private%5Ftoken` is `private_token`) and are compared case-blind.
 */
export function linkParams(requestUrl: string): URLSearchParams {
  const params = new URL(requestUrl, 'http://link.invalid').searchParams;
  for (const key of [...new Set(params.keys())]) if (SECRET_PARAMS.includes(key.toLowerCase())) params.delete(key);
  return params;
}

/** X-Page, X-Per-Page, X-Total, X-Total-Pages, X-Next-Page, X-Prev-Page and Link, as GitLab sends. */
export function setPaginationHeaders(request: FastifyRequest, reply: FastifyReply, page: Page, total: number, baseUrl: string): void {
  const totalPages = Math.max(1, Math.ceil(total / page.perPage));
  const next = page.page < totalPages ? page.page + 1 : undefined;
  const prev = page.page > 1 ? page.page - 1 : undefined;
  reply
    .header('x-page', page.page)
    .header('x-per-page', page.perPage)
    .header('x-total', total)
    .header('x-total-pages', totalPages)
    .header('x-next-page', next ?? '')
    .header('x-prev-page', prev ?? '');
  const { pathname } = new URL(request.url, baseUrl);
  const params = linkParams(request.url);
  const link = (n: number, rel: string) => {
    params.set('page', String(n));
    params.set('per_page', String(page.perPage));
    return `<${baseUrl}${pathname}?${params}>; rel="${rel}"`;
  };
  const links = [...(prev ? [link(prev, 'prev')] : []), ...(next ? [link(next, 'next')] : []), link(1, 'first'), link(totalPages, 'last')];
  reply.header('link', links.join(', '));
}
