import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  CurrentPrincipal,
  CurrentScope,
  declaredLength,
  HttpError,
  PackageAccess,
  type PackageScope,
  type Principal,
  readSmallBody,
  requestStream,
  StreamBody,
  unauthorizedWithChallenge,
} from '@stowage/core';
import type { FastifyRequest } from 'fastify';

import { npmError } from './npm.errors';
import { NpmForwarding } from './npm.forwarding';

const AUDITS = ['-/npm/v1/security/advisories/bulk', '-/npm/v1/security/audits/quick'];
const AUDIT_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * `npm audit` posts a gzipped dependency list, from signed-in callers only (as GitLab).
 * With forwarding on in redirect mode it is sent to the upstream (307 re-POSTs the body);
 * otherwise Stowage knows no advisories and answers none.
 */
async function audit(
  scope: PackageScope,
  principal: Principal,
  request: FastifyRequest,
  forwarding: NpmForwarding,
): Promise<Record<string, never>> {
  if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
  const location = await forwarding.audit(
    scope,
    AUDITS.find((a) => request.url.includes(a))!,
  );
  if (location) throw new HttpError(307, '', { location });
  // Unread, but not unbounded: a dependency list this big is no audit.
  const tooLarge = () => npmError(413, `Request body is too large (the limit is ${AUDIT_BODY_LIMIT} bytes)`);
  await readSmallBody(requestStream(request), { max: AUDIT_BODY_LIMIT, declared: declaredLength(request), tooLarge, keep: false });
  return {};
}

@Controller('api/v4/projects/:id/packages/npm')
export class NpmProjectAuditController {
  constructor(private readonly forwarding: NpmForwarding) {}

  @Post(AUDITS)
  @PackageAccess('read')
  @StreamBody()
  @HttpCode(200)
  audit(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    return audit(scope, principal, request, this.forwarding);
  }
}

@Controller('api/v4/groups/:id/-/packages/npm')
export class NpmGroupAuditController {
  constructor(private readonly forwarding: NpmForwarding) {}

  @Post(AUDITS)
  @PackageAccess('read', { scope: 'group' })
  @StreamBody()
  @HttpCode(200)
  audit(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    return audit(scope, principal, request, this.forwarding);
  }
}

@Controller('api/v4/packages/npm')
export class NpmInstanceAuditController {
  constructor(private readonly forwarding: NpmForwarding) {}

  @Post(AUDITS)
  @PackageAccess('read', { scope: 'instance' })
  @StreamBody()
  @HttpCode(200)
  audit(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    return audit(scope, principal, request, this.forwarding);
  }
}
