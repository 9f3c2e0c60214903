import type { FastifyRequest } from 'fastify';

import { httpErrors } from '../http/http-error';
import { requestContext } from './request-context';

/**
 * For a project-scope listing (an index, a search, any enumeration of package names): the
 * caller must be allowed to list, not only to fetch (`ProjectPermissions.mayList`). A Guest
 * of a non-public project may download a package it names but gets 403 here, as from the
 * project's own PyPI index and the Packages API. `refuse` gives a format its error body.
 */
export function assertMayList(request: FastifyRequest, refuse: () => Error = () => httpErrors.forbidden()): void {
  if (!requestContext(request).permissions?.mayList) throw refuse();
}
