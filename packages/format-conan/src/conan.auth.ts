import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  AccessService,
  AuthService,
  type FormatModuleOptions,
  httpErrors,
  type PackageAction,
  type ProjectContext,
  ProjectsService,
  requestContext,
  TokensService,
  unauthorizedWithChallenge,
} from '@stowage/core';
import type { ConanFormatConfig } from './conan.config';
import { CONAN_OPTIONS } from './conan.module-definition';
import type { RecipeRef } from './conan.naming';

/** Where a controller's routes live: under `projects/:id`, or instance-wide (project from the recipe user). */
export type ConanScope = 'project' | 'instance';

/**
 * Conan's login and the project a request acts on.
 *
 * `users/authenticate` turns the token the client presents (Basic `user:token`, any kind core
 * accepts) into a short-lived core token of the same kind, owner, binding and scopes, which
 * the client then sends as `Authorization: Bearer`. Core's AuthService accepts it like any
 * token, so every later request is checked by the usual guard; once it expires the client
 * gets 401 and logs in again.
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
    const { principal } = await this.auth.authenticate(request);
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
    const parent = principal.token;
    const lifetime = new Date(Date.now() + this.options.config.token_lifetime * 1000);
    const expiresAt = parent.expires_at && parent.expires_at < lifetime ? parent.expires_at : lifetime;
    const { secret } = await this.tokens.create({
      kind: parent.kind,
      name: `conan:${parent.id}`,
      scopes: parent.scopes,
      userId: parent.user_id,
      projectId: parent.project_id,
      namespaceId: parent.namespace_id,
      username: parent.username,
      expiresAt,
      // Re-logins with a bearer still hang off the token the user holds.
      parentId: parent.parent_id ?? parent.id,
    });
    return secret;
  }

  /** 401 unless the request carries valid credentials. */
  async requireCredentials(request: FastifyRequest): Promise<void> {
    const { principal } = await this.auth.authenticate(request);
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
  }

  /** The project the guard resolved from `:id` (project routes). */
  routeProject(request: FastifyRequest): ProjectContext {
    const project = requestContext(request).project;
    if (!project) throw new Error('route has no project scope');
    return project;
  }

  /**
   * The project a recipe lives in. Project routes: the one the guard resolved. Instance
   * routes: the recipe user is the project's full path with `+` for `/` (GitLab), checked
   * here as the guard checks `:id`.
   */
  async project(request: FastifyRequest, scope: ConanScope, ref: RecipeRef, action: PackageAction): Promise<ProjectContext> {
    const ctx = requestContext(request);
    if (scope === 'project') return this.routeProject(request);
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
    return project;
  }
}
