import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { readableProjects, type SqlCondition } from './access.service';
import { assertMayList } from './listing';
import { unauthorizedWithChallenge } from './package-access.guard';
import type { Principal } from './principal';
import { requestContext } from './request-context';

/**
 * Where a package route looks, resolved with the caller's access: one project (the guard
 * checked it), or the projects of a group's tree or of the whole instance that the caller
 * may read (`readable`, a condition over projects `p` and namespaces `n`). An instance scope
 * may be narrowed by a format's naming convention: to one root namespace (npm's
 * `@<root namespace>/<name>`), or to projects whose full path starts the package name
 * (Maven's `<project path>/<artifact>`). Every `PackageService.scope*` method takes one.
 */
export type PackageScope =
  | { kind: 'project'; projectId: number }
  | { kind: 'group'; groupId: number; readable: SqlCondition }
  | { kind: 'instance'; readable: SqlCondition; rootNamespace?: string; namePrefixedByProjectPath?: boolean };

export interface ScopeOptions {
  /**
   * An enumeration of names (an index, a search, a listing) rather than a download: a Guest
   * of a non-public project may fetch a package it names but not list them. A project scope
   * then calls `assertMayList` (403, or `refuse`); a group or instance scope holds only the
   * projects the caller may list.
   */
  listing?: boolean;
  /** The error a project-scope caller who may not list gets, in the format's own shape. */
  refuse?: () => Error;
}

/**
 * The scope of a request that `@PackageAccess(action, { scope })` admitted: the project,
 * group or instance it resolved, with the projects the caller may read (or list).
 */
export function packageScope(request: FastifyRequest, opts: ScopeOptions = {}): PackageScope {
  const ctx = requestContext(request);
  if (ctx.project) {
    if (opts.listing) assertMayList(request, opts.refuse);
    return { kind: 'project', projectId: ctx.project.project.id };
  }
  const readable = readableProjects(ctx.auth.principal, { listing: opts.listing });
  return ctx.group ? { kind: 'group', groupId: ctx.group.id, readable } : { kind: 'instance', readable };
}

/** `packageScope(request, opts)` as a handler parameter: `@CurrentScope({ listing: true }) scope: PackageScope`. */
export const CurrentScope = createParamDecorator((opts: ScopeOptions | undefined, host: ExecutionContext) =>
  packageScope(host.switchToHttp().getRequest<FastifyRequest>(), opts),
);

/** A short key naming the scope, for caches of documents rendered per scope (`p12`, `g3`, `i`, `i@acme`). */
export function scopeKey(scope: PackageScope): string {
  switch (scope.kind) {
    case 'project':
      return `p${scope.projectId}`;
    case 'group':
      return `g${scope.groupId}`;
    case 'instance':
      return `i${scope.rootNamespace === undefined ? '' : `@${scope.rootNamespace.toLowerCase()}`}${scope.namePrefixedByProjectPath ? '/' : ''}`;
  }
}

/**
 * The answer when nothing matched in a scope. As in GitLab (`unauthorized_or! { not_found! }`),
 * an anonymous miss at group or instance scope is a 401 with the Basic challenge, whether or
 * not a private package of the name exists, so that clients retry with their credentials.
 */
export function scopeMiss(scope: PackageScope, principal: Principal, notFound: () => Error): Error {
  return scope.kind !== 'project' && principal.kind === 'anonymous' ? unauthorizedWithChallenge() : notFound();
}

/** An instance scope narrowed by a format's naming convention (see PackageScope); any other scope as it is. */
export function narrowInstance(scope: PackageScope, by: { rootNamespace?: string; namePrefixedByProjectPath?: boolean }): PackageScope {
  return scope.kind === 'instance' ? { ...scope, ...by } : scope;
}
