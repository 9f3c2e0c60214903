import { applyDecorators, type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { StowageConfig } from '../config';
import { HttpError, httpErrors } from '../http/http-error';
import { type ProjectContext, withCaller } from '../projects/project-context';
import { ProjectsService } from '../projects/projects.service';
import { PackageRateLimits } from '../rate-limits/package-rate-limits';
import { AccessService, type ProjectPermissions } from './access.service';
import { AuthService } from './auth.service';
import { type Authentication, principalScopes } from './principal';
import { setRequestContext } from './request-context';
import { type PackageAction, scopesAllow, scopesAllowApi } from './scopes';

/** The REST API's scope rule for user tokens (see `restApi`); other principals pass. */
function restApiScopesAllow(auth: Authentication, action: PackageAction): boolean {
  return auth.principal.kind !== 'user' || scopesAllowApi(auth.principal.token.scopes, action !== 'read');
}

export interface PackageAccessOptions {
  /** What `:id` names: a project (default), a group, or nothing (instance-wide routes). */
  scope?: 'project' | 'group' | 'instance';
  /** The route parameter holding the project or group id/path. */
  param?: string;
  /**
   * Whether an anonymous caller who may not see the project or group gets 401 with the
   * Basic challenge (package-manager routes, the default: clients retry with credentials)
   * or 404 like everyone else (GitLab's REST API, e.g. the Packages API, answers
   * `404 Project Not Found` there).
   */
  challenge?: boolean;
  /** Whether the web UI's session cookie counts (the Packages API); package-manager routes never take it. */
  session?: boolean;
  /**
   * GitLab's REST Packages API (`/projects/:id/packages…`): a personal, project or group access
   * token needs `read_api` or `api` there (`api` to delete), as on the rest of the REST API;
   * job and deploy tokens keep their package-registry scopes.
   */
  restApi?: boolean;
}

interface PackageAccessMetadata extends Required<Omit<PackageAccessOptions, 'scope'>> {
  action: PackageAction;
  scope?: PackageAccessOptions['scope'];
}

const PACKAGE_ACCESS = 'stowage:package-access';
const ROUTE_SCOPE = 'stowage:route-scope';
const ANY_BASIC_USERNAME = 'stowage:any-basic-username';

/**
 * On a controller whose clients may send any HTTP Basic user name with a job or deploy token:
 * GitLab's Conan API reads only the password (its docs log CI in as `ci_user` with
 * `CI_JOB_TOKEN`). Everywhere else a job token needs `gitlab-ci-token` and a deploy token its
 * own user name (AuthService).
 */
export const AnyBasicUsername = () => SetMetadata(ANY_BASIC_USERNAME, true);

/**
 * What `:id` names on every `@PackageAccess` handler of this controller that names no scope
 * itself. It lets one routes class serve two prefixes without a factory: Conan's v1 API is
 * `class ConanV1ProjectController extends ConanV1Routes` under `projects/:id/…` and, with
 * `@RouteScope('instance')`, `ConanV1InstanceController` under the instance prefix.
 */
export const RouteScope = (scope: 'project' | 'group' | 'instance') => SetMetadata(ROUTE_SCOPE, scope);

/** GitLab's challenge on package endpoints; pip, Maven and NuGet only send credentials after it. */
export const PACKAGE_REGISTRY_CHALLENGE = { 'www-authenticate': 'Basic realm="GitLab Packages Registry"' };

export function unauthorizedWithChallenge(): HttpError {
  return httpErrors.unauthorized().withHeaders(PACKAGE_REGISTRY_CHALLENGE);
}

/**
 * Declares what a package route needs: `@PackageAccess('write')` on an upload,
 * `@PackageAccess('read', { scope: 'group' })` on a group index. The guard resolves the
 * project or group, checks visibility, role, token binding and scope, and answers as GitLab
 * does: 401 (with a Basic challenge) to anonymous or bad credentials, 404 where the caller
 * may not know the project exists, 403 where it may but is not allowed.
 */
export const PackageAccess = (action: PackageAction, opts: PackageAccessOptions = {}) =>
  applyDecorators(
    SetMetadata(PACKAGE_ACCESS, {
      action,
      scope: opts.scope,
      param: opts.param ?? 'id',
      challenge: opts.challenge ?? true,
      session: opts.session ?? false,
      restApi: opts.restApi ?? false,
    } satisfies PackageAccessMetadata),
    UseGuards(PackageAccessGuard),
  );

@Injectable()
export class PackageAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly access: AccessService,
    private readonly projects: ProjectsService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    private readonly rateLimits: PackageRateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const meta = this.reflector.get<PackageAccessMetadata>(PACKAGE_ACCESS, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.config.packages.enabled) throw httpErrors.notFound();

    const anyBasicUsername = this.reflector.getAllAndOverride<boolean | undefined>(ANY_BASIC_USERNAME, [
      context.getHandler(),
      context.getClass(),
    ]);
    const auth = await this.auth.authenticate(request, { session: meta.session, anyBasicUsername });
    // Before any refusal: a flood of bad credentials counts as anonymous requests.
    if (this.rateLimits.active) await this.rateLimits.check(request, auth);
    // A bad token header is always refused; a bad Basic password still reads public data.
    if (auth.rejected && auth.source !== 'basic') throw unauthorizedWithChallenge();
    const idOrPath = (request.params as Record<string, string | undefined>)[meta.param] ?? '';
    const scope = meta.scope ?? this.reflector.get<PackageAccessMetadata['scope']>(ROUTE_SCOPE, context.getClass()) ?? 'project';

    switch (scope) {
      // Group and instance routes read through AccessService.readableProjects, which knows
      // nothing of scopes: a token that may not read packages at all (read_user) stops here.
      // Each project a write acts on is checked by the handler as the project case below.
      case 'instance':
        if (!this.scopesMayRead(auth, meta)) throw httpErrors.insufficientScope();
        setRequestContext(request, { auth });
        return true;
      case 'group': {
        const group = await this.projects.findGroup(idOrPath);
        if (!group || !(await this.access.groupVisible(auth.principal, group))) throw this.hidden(auth, 'Group', meta);
        if (!this.scopesMayRead(auth, meta)) throw httpErrors.insufficientScope();
        setRequestContext(request, { auth, group });
        return true;
      }
      case 'project': {
        const { project, permissions } = await this.projectAccess(auth, idOrPath, meta.action, meta);
        setRequestContext(request, { auth, project, permissions });
        return true;
      }
    }
  }

  /**
   * A package action on one project, checked as on every package route (visibility, role,
   * token binding, scope, packages enabled); also for routes that find the project otherwise
   * (the web UI's downloads by file id). Packages off for the instance is the caller's to check.
   */
  async projectAccess(
    auth: Authentication,
    idOrPath: string,
    action: PackageAction,
    opts: { challenge: boolean; restApi?: boolean },
  ): Promise<{ project: ProjectContext; permissions: ProjectPermissions }> {
    const project = await this.projects.findProject(idOrPath);
    if (!project) throw this.hidden(auth, 'Project', opts);
    const permissions = await this.access.projectPermissions(auth.principal, project);
    if (!permissions.visible) throw this.hidden(auth, 'Project', opts);
    if (!permissions.allows(action)) {
      throw this.isAnonymous(auth) ? unauthorizedWithChallenge() : httpErrors.forbidden();
    }
    if (!permissions.scopeAllows(action) || (opts.restApi && !restApiScopesAllow(auth, action))) throw httpErrors.insufficientScope();
    if (!project.project.packages_enabled) throw httpErrors.forbidden('Packages are disabled for this project');
    return { project: withCaller(project, { principal: auth.principal, accessLevel: permissions.accessLevel }), permissions };
  }

  private scopesMayRead(auth: Authentication, meta: { restApi: boolean }): boolean {
    if (this.isAnonymous(auth)) return true;
    return scopesAllow(principalScopes(auth.principal), 'read') && (!meta.restApi || restApiScopesAllow(auth, 'read'));
  }

  private isAnonymous(auth: Authentication): boolean {
    return auth.principal.kind === 'anonymous';
  }

  /** Anonymous callers are asked to log in (clients retry with credentials); others see 404. */
  private hidden(auth: Authentication, subject: string, meta: { challenge: boolean }): HttpError {
    return meta.challenge && this.isAnonymous(auth) ? unauthorizedWithChallenge() : httpErrors.notFound(subject);
  }
}
