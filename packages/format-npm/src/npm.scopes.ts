import { Injectable } from '@nestjs/common';
import {
  AccessService,
  narrowInstance,
  type PackageAction,
  type PackageScope,
  PackageService,
  type Principal,
  type ProjectContext,
  ProjectsService,
  scopeMiss,
  unauthorizedWithChallenge,
  withCaller,
} from '@stowage/core';

import { npmErrors } from './npm.errors';
import type { PackumentSource } from './npm.metadata';
import { NPM, type NpmName } from './npm.naming';

/** Resolves which projects' versions a metadata request merges (tarball URLs start at externalBaseUrl). */
@Injectable()
export class NpmScopes {
  constructor(
    private readonly packages: PackageService,
    private readonly access: AccessService,
    private readonly projects: ProjectsService,
  ) {}

  /**
   * The projects in scope holding the name that the caller may read, with their revisions.
   * When there are none, the answer must not tell whether a private package of that name
   * exists (GitLab's 401/403-versus-404 does): at group and instance scope an anonymous
   * caller gets 401 with the challenge whether or not the name exists (never a forward to
   * the public registry, which would hand a tokenless client someone else's package of a
   * private name), everyone else 404 (or the forward).
   */
  async sources(scope: PackageScope, pkg: NpmName, principal: Principal): Promise<PackumentSource[]> {
    // Instance scope follows GitLab's naming convention: `@<root namespace>/<name>`.
    // (No unscoped name can be private here, so its miss is 404 for everyone.)
    if (scope.kind === 'instance' && !pkg.scope) throw npmErrors.notFound();
    const sources = await this.packages.scopeProjects(narrowInstance(scope, { rootNamespace: pkg.scope }), NPM, pkg.name);
    if (!sources.length) throw scopeMiss(scope, principal, () => npmErrors.notFound());
    return sources;
  }

  /**
   * The project a tag change at group or instance scope applies to: the newest readable
   * project in scope for which `holds` is true (it has the version, or the tag), provided
   * the caller may do `action` there.
   */
  async projectFor(
    scope: PackageScope,
    pkg: NpmName,
    principal: Principal,
    action: PackageAction,
    holds: (projectId: number) => Promise<boolean>,
    missing = npmErrors.notFound(),
  ): Promise<ProjectContext> {
    const sources = await this.sources(scope, pkg, principal);
    for (const { projectId } of [...sources].reverse()) {
      if (!(await holds(projectId))) continue;
      const ctx = await this.projects.findProjectById(projectId);
      if (!ctx) continue;
      const permissions = await this.access.projectPermissions(principal, ctx);
      if (!permissions.allows(action) || !permissions.scopeAllows(action)) {
        throw principal.kind === 'anonymous' ? unauthorizedWithChallenge() : npmErrors.forbidden();
      }
      return withCaller(ctx, { principal, accessLevel: permissions.accessLevel });
    }
    throw missing;
  }
}
