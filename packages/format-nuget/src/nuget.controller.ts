import { Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import {
  CurrentPrincipal,
  CurrentProject,
  CurrentScope,
  declaredLength,
  externalBaseUrl,
  httpErrors,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  type PackageScope,
  PackageService,
  type Principal,
  type ProjectContext,
  requestStream,
  StowageConfig,
  StreamBody,
  unauthorizedWithChallenge,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { NUGET, validName, validVersion } from './nuget.naming';
import { NugetReads } from './nuget.reads';
import type { SearchQuery } from './nuget.search';
import { NugetUploads } from './nuget.upload';
import { groupBase, projectBase, serviceIndex } from './nuget.urls';

type WildcardParams = { '*': string };

/** Push and delete, as the v3 and v2 project feeds both serve them. */
export abstract class NugetPushRoutes {
  protected abstract readonly uploads: NugetUploads;
  protected abstract readonly packages: PackageService;

  // NuGet appends a slash to the publish URL; `*` must then be empty.
  @Put(['', '*'])
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async push(@CurrentProject() ctx: ProjectContext, @Param() params: Partial<WildcardParams>, @Req() request: FastifyRequest) {
    if (params['*']) throw httpErrors.notFound();
    return receivePush(this.uploads, ctx, request, false);
  }

  @Delete(':name/:version')
  @PackageAccess('delete')
  @HttpCode(204)
  async remove(@CurrentProject() ctx: ProjectContext, @Param('name') name: string, @Param('version') version: string) {
    await deletePackage(this.packages, ctx, name, version);
  }
}

/** The service index of a project (`kind` project) or group feed, for a valid numeric id. */
function indexFor(config: StowageConfig, id: string, kind: 'project' | 'group') {
  if (!/^[1-9]\d*$/.test(id)) throw httpErrors.badRequest('id is invalid');
  const base = kind === 'project' ? projectBase(externalBaseUrl(config), Number(id)) : groupBase(externalBaseUrl(config), Number(id));
  return serviceIndex(base, kind);
}

/** GitLab's project-level NuGet v3 feed: service index, registration, flat container, search, push, delete. */
@Controller('api/v4/projects/:id/packages/nuget')
export class NugetController extends NugetPushRoutes {
  constructor(
    protected readonly uploads: NugetUploads,
    protected readonly packages: PackageService,
    private readonly reads: NugetReads,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {
    super();
  }

  // Public since GitLab 16.1: clients read it before they know they need credentials.
  @Get(['index', 'index.json'])
  @PackageAccess('read', { scope: 'instance' })
  index(@Param('id') id: string) {
    return indexFor(this.config, id, 'project');
  }

  @Get('metadata/*')
  @PackageAccess('read')
  metadata(
    @CurrentScope() scope: PackageScope,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.registration(scope, params['*'], request, reply);
  }

  /** A search enumerates names: a Guest of a non-public project gets 403, though it may fetch a name it knows. */
  @Get('query')
  @PackageAccess('read')
  query(@CurrentScope({ listing: true }) scope: PackageScope, @Query() query: SearchQuery) {
    return this.reads.query(scope, query);
  }

  @Get('download/*')
  @PackageAccess('read')
  download(
    @CurrentScope() scope: PackageScope,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.download(scope, params['*'], request, reply);
  }

  // Debuggers send no credentials: public projects answer anonymously, private ones after the challenge.
  @Get('symbolfiles/*')
  @PackageAccess('read')
  symbols(
    @CurrentScope() scope: PackageScope,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.symbolFile(scope, params['*'], request, reply);
  }

  @Put(['symbolpackage', 'symbolpackage/*'])
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async pushSymbols(@CurrentProject() ctx: ProjectContext, @Param() params: Partial<WildcardParams>, @Req() request: FastifyRequest) {
    if (params['*']) throw httpErrors.notFound();
    return receivePush(this.uploads, ctx, request, true);
  }
}

/** A push (v3 or v2): the package part of the multipart body. */
export async function receivePush(uploads: NugetUploads, ctx: ProjectContext, request: FastifyRequest, symbols: boolean) {
  const original = request.headers[ORIGINAL_CONTENT_TYPE];
  await uploads.upload({
    ctx,
    contentType: typeof original === 'string' ? original : undefined,
    body: requestStream(request),
    length: declaredLength(request),
    symbols,
  });
  return { message: 'Created' };
}

export async function deletePackage(packages: PackageService, ctx: ProjectContext, name: string, version: string) {
  validName(name);
  validVersion(version);
  const pkg = await packages.findPackage({ projectId: ctx.project.id, packageType: NUGET, name, version });
  if (!pkg) throw httpErrors.notFound('Package');
  await packages.assertMayDelete(ctx, NUGET, pkg.name);
  await packages.deletePackage(pkg);
}

/**
 * The group feed: discovery only (service index, registration, search, symbols) over every
 * project of the group the caller may read; downloads point at the holding project.
 * Search lists only projects the caller may list; a name's registration may come from any it may read.
 */
@Controller('api/v4/groups/:id/-/packages/nuget')
export class NugetGroupController {
  constructor(
    private readonly reads: NugetReads,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get(['index', 'index.json'])
  @PackageAccess('read', { scope: 'instance' })
  index(@Param('id') id: string) {
    return indexFor(this.config, id, 'group');
  }

  @Get('metadata/*')
  @PackageAccess('read', { scope: 'group' })
  metadata(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    challengeAnonymous(principal);
    return this.reads.registration(scope, params['*'], request, reply);
  }

  /** Symbols of every project of the group the caller may read (anonymous: the public ones). */
  @Get('symbolfiles/*')
  @PackageAccess('read', { scope: 'group' })
  symbols(
    @CurrentScope() scope: PackageScope,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.symbolFile(scope, params['*'], request, reply);
  }

  @Get('query')
  @PackageAccess('read', { scope: 'group' })
  query(@CurrentScope({ listing: true }) scope: PackageScope, @CurrentPrincipal() principal: Principal, @Query() query: SearchQuery) {
    challengeAnonymous(principal);
    return this.reads.query(scope, query);
  }
}

/** GitLab asks anonymous callers to log in even on public groups: NuGet only sends credentials after a challenge. */
function challengeAnonymous(principal: Principal): void {
  if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
}
