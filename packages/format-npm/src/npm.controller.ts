import { Controller, Delete, Get, Inject, Param, Put, Req, Res } from '@nestjs/common';
import {
  CurrentPrincipal,
  CurrentProject,
  CurrentScope,
  type FormatModuleOptions,
  isJsonObject,
  PackageAccess,
  type PackageScope,
  type Principal,
  principalUser,
  type ProjectContext,
  requestContext,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { readJsonBody } from './npm.body';
import { NpmChanges } from './npm.changes';
import { type NpmFormatConfig, publishBodyLimit } from './npm.config';
import { npmErrors } from './npm.errors';
import { NPM_OPTIONS } from './npm.module-definition';
import { type NpmName, npmPath } from './npm.naming';
import { NpmReads } from './npm.reads';
import { NpmUploads } from './npm.upload';

// find-my-way's wildcard: the escaped package name and whatever follows it arrive as `*`.
type PathParams = { '*': string };

/** The caller may remove versions and tags: Maintainer, as in GitLab (core gives deploy tokens no 'delete'). */
function assertMayDelete(request: FastifyRequest): void {
  const permissions = requestContext(request).permissions;
  if (!permissions?.allows('delete') || !permissions.scopeAllows('delete')) throw npmErrors.forbidden();
}

/**
 * GitLab's project-level npm registry: packuments, tarballs, publish, deprecate and
 * unpublish. (dist-tags, search and audit live in their own controllers.)
 */
@Controller('api/v4/projects/:id/packages/npm')
export class NpmController {
  constructor(
    private readonly publisher: NpmUploads,
    private readonly changes: NpmChanges,
    private readonly packuments: NpmReads,
    @Inject(NPM_OPTIONS) private readonly options: FormatModuleOptions<NpmFormatConfig>,
  ) {}

  @Get('*')
  @PackageAccess('read')
  async read(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const path = npmPath(params['*']);
    if (path.kind === 'packument') {
      return this.packuments.send(scope, path.pkg, principal, request, reply);
    }
    if (path.kind !== 'tarball') throw npmErrors.notFound();
    return this.packuments.sendTarball(scope, path, principal, request, reply);
  }

  /** Publish, deprecate (npm says so in `Npm-Command`, as GitLab expects), or the PUT of a one-version unpublish (`/-rev/`). */
  @Put('*')
  @PackageAccess('write')
  @StreamBody()
  async change(
    @CurrentProject() ctx: ProjectContext,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Req() request: FastifyRequest,
  ) {
    const path = npmPath(params['*']);
    if (path.kind !== 'packument' && path.kind !== 'revision') throw npmErrors.notFound();
    const deprecating = path.kind === 'packument' && request.headers['npm-command'] === 'deprecate';
    if (path.kind === 'revision' || deprecating) assertMayDelete(request);
    const body = await readJsonBody(request, publishBodyLimit(this.options.config));
    if (!isJsonObject(body)) throw npmErrors.badRequest('Request body must be a JSON object');
    if (path.kind === 'revision') {
      await this.changes.unpublishVersions(ctx, this.sameName(path.pkg, body), body);
      return { ok: 'updated package' };
    }
    if (deprecating) {
      await this.changes.deprecate(ctx, this.sameName(path.pkg, body), body);
      return { ok: 'updated package' };
    }
    const pkg = await this.publisher.publish(ctx, path.pkg, body, principalUser(principal)?.username);
    return { ok: 'created new package', id: pkg.id, name: pkg.name, version: pkg.version };
  }

  /** `npm unpublish`: the whole name (`<name>/-rev/<rev>`) or one version's tarball. */
  @Delete('*')
  @PackageAccess('delete')
  async unpublish(@CurrentProject() ctx: ProjectContext, @Param() params: PathParams) {
    const path = npmPath(params['*']);
    if (path.kind === 'revision') await this.changes.unpublishAll(ctx, path.pkg.name);
    else if (path.kind === 'tarball-revision' || path.kind === 'tarball')
      await this.changes.unpublishVersion(ctx, path.pkg.name, path.version);
    else throw npmErrors.notFound();
    return { ok: 'deleted' };
  }

  private sameName(target: NpmName, body: Record<string, unknown>): string {
    if (body.name !== undefined && body.name !== target.name) {
      throw npmErrors.badRequest(`Package name in the body (${String(body.name)}) does not match the URL (${target.name}).`);
    }
    return target.name;
  }
}
