import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { Namespace } from '../projects/namespace.entity';
import type { ProjectContext } from '../projects/project-context';
import type { ProjectPermissions } from './access.service';
import type { Authentication, Principal } from './principal';

/** What the access guards established about a request, for handlers to read. */
export interface StowageRequestContext {
  auth: Authentication;
  project?: ProjectContext;
  permissions?: ProjectPermissions;
  group?: Namespace;
}

const CONTEXT = Symbol('stowage.context');

export function setRequestContext(request: FastifyRequest, ctx: StowageRequestContext): void {
  (request as unknown as Record<symbol, StowageRequestContext>)[CONTEXT] = ctx;
}

export function requestContext(request: FastifyRequest): StowageRequestContext {
  const ctx = findRequestContext(request);
  if (!ctx) throw new Error('no access guard ran for this route');
  return ctx;
}

/** The context, or undefined where no access guard ran (yet). */
export function findRequestContext(request: FastifyRequest): StowageRequestContext | undefined {
  return (request as unknown as Record<symbol, StowageRequestContext | undefined>)[CONTEXT];
}

const fromRequest = <T>(pick: (ctx: StowageRequestContext) => T) =>
  createParamDecorator((_: unknown, host: ExecutionContext) => pick(requestContext(host.switchToHttp().getRequest<FastifyRequest>())));

/** The project named by the route's `:id`, resolved and access-checked. */
export const CurrentProject = fromRequest((ctx) => {
  if (!ctx.project) throw new Error('route has no project scope');
  return ctx.project;
});
/**
 * The project named by the route's `:id` at project scope; undefined where the route names a
 * group or the instance (one routes class serving several scopes, see `RouteScope`).
 */
export const RouteProject = fromRequest((ctx): ProjectContext | undefined => ctx.project);
/** The group named by the route's `:id`, resolved and visibility-checked. */
export const CurrentGroup = fromRequest((ctx) => {
  if (!ctx.group) throw new Error('route has no group scope');
  return ctx.group;
});
export const CurrentPrincipal = fromRequest((ctx): Principal => ctx.auth.principal);
