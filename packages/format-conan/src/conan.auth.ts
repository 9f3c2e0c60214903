import { Inject, Injectable } from '@nestjs/common';
import {
  AccessService,
  AuthService,
  type FormatModuleOptions,
  httpErrors,
  type PackageAction,
  type PackageScope,
  type ProjectContext,
  ProjectsService,
  requestContext,
  TokensService,
  unauthorizedWithChallenge,
  withCaller,
} from '@stowage/core';
import type { FastifyRequest } from 'fastify';

import type { ConanFormatConfig } from './conan.config';
import { CONAN_OPTIONS } from './conan.module-definition';
import type { RecipeRef } from './conan.naming';

/** Each scope of the presented token, reduced to the package registry (GitLab's Conan tokens reach nothing else). */
const REGISTRY_SCOPES: Record<string, readonly string[]> = {
  api: ['read_package_registry', 'write_package_registry'],
  read_api: ['read_package_registry'],
  read_package_registry: ['read_package_registry'],
  write_package_registry: ['write_package_registry'],
};

/** The scopes of a login made with a token of `scopes`: registry only, never more than the token had. */
export function conanLoginScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.flatMap((s) => REGISTRY_SCOPES[s] ?? []))].sort();
}

/**
 * Conan's login and the project a request acts on.
 *
 * `users/authenticate` turns the token the client presents (Basic `user:token`, any kind core
 * accepts) into a short-lived core token of the same kind, owner and binding, which the client
 * then sends as `Authorization: Bearer`. As GitLab's Conan tokens, it reaches the package
 * registry only (an `api` token's login cannot use the REST API) and lives at most
 * `token_lifetime`. Each login makes one, so a credential keeps at most `max_live_tokens` of
 * them: the oldest are removed (their clients get 401 and log in again, as after expiry) rather
 * than a login refused, which would lock out a CI fleet sharing one deploy token. Core's
 * AuthService accepts the bearer like any token, so every later request meets the usual guard.
 */
@Injectable()
export class ConanAuth {
  constructor(
    private readonly auth: AuthService,
    private readonly tokens: TokensService,
    private readonly projects: ProjectsService,
    private readonly access: AccessService,
    @Inject(CONAN_OPTIONS) private readonly options: FormatModuleOptions<ConanFormatConfig>,
  ) {}

  /** The bearer token for the caller's credentials; 401 when there are none or they are wrong. */
  async issueToken(request: FastifyRequest): Promise<string> {
    const { principal } = await this.auth.authenticate(request, { anyBasicUsername: true });
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
    const parent = principal.token;
    const lifetime = new Date(Date.now() + this.options.config.token_lifetime * 1000);
    const expiresAt = parent.expires_at && parent.expires_at < lifetime ? parent.expires_at : lifetime;
    const { secret } = await this.tokens.create({
      kind: parent.kind,
      name: `conan:${parent.id}`,
      // Never empty: the route's guard refuses a token that may not read packages.
      scopes: conanLoginScopes(parent.scopes),
      userId: parent.user_id,
      projectId: parent.project_id,
      namespaceId: parent.namespace_id,
      username: parent.username,
      expiresAt,
      // Re-logins with a bearer still hang off the token the user holds.
      parentId: parent.parent_id ?? parent.id,
      keepDerived: this.options.config.max_live_tokens,
    });
    return secret;
  }

  /** 401 unless the request carries valid credentials. */
  async requireCredentials(request: FastifyRequest): Promise<void> {
    const { principal } = await this.auth.authenticate(request, { anyBasicUsername: true });
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
  }

  /** The project the guard resolved from `:id` (project routes). */
  routeProject(request: FastifyRequest): ProjectContext {
    const project = requestContext(request).project;
    if (!project) throw new Error('route has no project scope');
    return project;
  }

  /**
   * The project a recipe lives in. Project scope: the one the guard resolved. Instance
   * scope: the recipe user is the project's full path with `+` for `/` (GitLab), checked
   * here as the guard checks `:id`. With `listing` (instance routes; a search), 403 to a caller
   * who may fetch the project's packages but not list them (a Guest of a non-public project).
   */
  async project(
    request: FastifyRequest,
    scope: PackageScope,
    ref: RecipeRef,
    action: PackageAction,
    opts: { listing?: boolean } = {},
  ): Promise<ProjectContext> {
    const ctx = requestContext(request);
    if (scope.kind === 'project') return this.routeProject(request);
    const anonymous = ctx.auth.principal.kind === 'anonymous';
    const hidden = () => (anonymous ? unauthorizedWithChallenge() : httpErrors.notFound('Project'));
    if (ref.user === '_') throw httpErrors.notFound('Package');
    const project = await this.projects.findProject(ref.user.replace(/\+/g, '/'));
    if (!project) throw hidden();
    const permissions = await this.access.projectPermissions(ctx.auth.principal, project);
    if (!permissions.visible) throw hidden();
    if (!permissions.allows(action)) throw anonymous ? unauthorizedWithChallenge() : httpErrors.forbidden();
    if (!permissions.scopeAllows(action)) throw httpErrors.insufficientScope();
    if (!project.project.packages_enabled) throw httpErrors.forbidden('Packages are disabled for this project');
    if (opts.listing && !permissions.mayList) throw httpErrors.forbidden();
    return withCaller(project, { principal: ctx.auth.principal, accessLevel: permissions.accessLevel });
  }
}
