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
  const url = new URL(request.url, baseUrl);
  // The links are for any client to follow (and for proxies to log): never a credential.
  for (const param of SECRET_PARAMS) url.searchParams.delete(param);
  const link = (n: number, rel: string) => {
    url.searchParams.set('page', String(n));
    url.searchParams.set('per_page', String(page.perPage));
    return `<${baseUrl}${url.pathname}${url.search}>; rel="${rel}"`;
  };
  const links = [
    ...(prev ? [link(prev, 'prev')] : []),
    ...(next ? [link(next, 'next')] : []),
    link(1, 'first'),
    link(totalPages, 'last'),
  ];
  reply.header('link', links.join(', '));
}
