import { Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AccessService,
  CurrentGroup,
  CurrentPrincipal,
  CurrentProject,
  declaredLength,
  FileStorage,
  httpErrors,
  type Namespace,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  type PackageScope,
  PackageService,
  type Principal,
  type ProjectContext,
  requestStream,
  type SqlCondition,
  StowageConfig,
  StreamBody,
  unauthorizedWithChallenge,
} from '@stowage/core';
import { NugetDocuments, sendJson } from './nuget.documents';
import { type FeedUrls, leaf, rendered } from './nuget.metadata';
import { isValidName, NUGET, normalizeVersion, packageFileName, validName, validVersion } from './nuget.naming';
import { NugetSearch, type SearchQuery } from './nuget.search';
import { NugetUploads } from './nuget.upload';
import { groupBase, groupUrls, origin, projectBase, projectUrls, serviceIndex } from './nuget.urls';

type WildcardParams = { '*': string };

/** `x` or `x.json` → `x`; null for any other suffix on an `index`. */
const withoutJson = (s: string) => (s.endsWith('.json') ? s.slice(0, -5) : s);

/**
 * The registration routes shared by the project and group feeds:
 * `<id>/index.json`, `<id>/page/<lower>/<upper>.json` and `<id>/<version>.json`.
 */
async function registration(
  documents: NugetDocuments,
  scope: PackageScope,
  scopeKey: string,
  urls: FeedUrls,
  path: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const parts = path.split('/');
  const name = parts[0];
  if (!isValidName(name)) throw httpErrors.notFound();
  if (parts.length === 2 && (parts[1] === 'index' || parts[1] === 'index.json')) {
    const doc = await documents.document(scope, scopeKey, urls, name, { kind: 'registration' });
    if (!doc) throw httpErrors.notFound('Package');
    return sendJson(request, reply, doc);
  }
  if (parts.length === 4 && parts[1] === 'page') {
    const doc = await documents.document(scope, scopeKey, urls, name, { kind: 'page', lower: parts[2], upper: withoutJson(parts[3]) });
    if (!doc) throw httpErrors.notFound('Page');
    return sendJson(request, reply, doc);
  }
  if (parts.length === 2) {
    const version = normalizeVersion(validVersion(withoutJson(parts[1])));
    const { entry } = await documents.versions(scope, scopeKey, name);
    const pkg = entry?.sorted.find((p) => p.normalized_version === version);
    if (!pkg) throw httpErrors.notFound('Package');
    return sendJson(request, reply, rendered(leaf(urls, pkg)));
  }
  throw httpErrors.notFound();
}

/** GitLab's project-level NuGet v3 feed: service index, registration, flat container, search, push, delete. */
@Controller('api/v4/projects/:id/packages/nuget')
export class NugetController {
  constructor(
    private readonly uploads: NugetUploads,
    private readonly documents: NugetDocuments,
    private readonly search: NugetSearch,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    private readonly access: AccessService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  // Public since GitLab 16.1: clients read it before they know they need credentials.
  @Get(['index', 'index.json'])
  @PackageAccess('read', { scope: 'instance' })
  index(@Param('id') id: string, @Req() request: FastifyRequest) {
    if (!/^[1-9]\d*$/.test(id)) throw httpErrors.badRequest('id is invalid');
    return serviceIndex(projectBase(origin(this.config, request), Number(id)), 'project');
  }

  @Get('metadata/*')
  @PackageAccess('read')
  async metadata(@CurrentProject() ctx: ProjectContext, @Param() params: WildcardParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const urls = projectUrls(origin(this.config, request), ctx.project.id);
    return registration(this.documents, { projectId: ctx.project.id }, `p${ctx.project.id}`, urls, params['*'], request, reply);
  }

  @Get('query')
  @PackageAccess('read')
  query(@CurrentProject() ctx: ProjectContext, @CurrentPrincipal() principal: Principal, @Query() query: SearchQuery, @Req() request: FastifyRequest) {
    const urls = projectUrls(origin(this.config, request), ctx.project.id);
    return this.search.search({ projectId: ctx.project.id }, this.access.readableProjects(principal), urls, query);
  }

  /** The flat container: `<id>/index.json` and `<id>/<version>/<id>.<version>.nupkg|snupkg`. */
  @Get('download/*')
  @PackageAccess('read')
  async download(@CurrentProject() ctx: ProjectContext, @Param() params: WildcardParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const parts = params['*'].split('/');
    const name = parts[0];
    if (!isValidName(name)) throw httpErrors.notFound();
    const scope = { projectId: ctx.project.id };
    if (parts.length === 2 && (parts[1] === 'index' || parts[1] === 'index.json')) {
      const doc = await this.documents.document(scope, `p${ctx.project.id}`, projectUrls('', ctx.project.id), name, { kind: 'versions' });
      if (!doc) throw httpErrors.notFound('Package');
      return sendJson(request, reply, doc);
    }
    if (parts.length !== 3) throw httpErrors.notFound();
    const version = validVersion(parts[1]);
    const symbols = parts[2].toLowerCase().endsWith('.snupkg');
    if (!symbols && !parts[2].toLowerCase().endsWith('.nupkg')) throw httpErrors.notFound();
    const pkg = await this.packages.findPackage({ projectId: ctx.project.id, packageType: NUGET, name, version });
    if (!pkg) throw httpErrors.notFound('Package');
    const fileName = packageFileName(pkg.name, pkg.version, symbols);
    const file = await this.packages.findFile(pkg.id, fileName);
    if (!file) throw httpErrors.notFound('Package file');
    if (request.method === 'GET') this.packages.markDownloaded(pkg);
    return this.storage.send(request, reply, file, { fileName });
  }

  // NuGet appends a slash to the publish URL; `*` must then be empty.
  @Put(['', '*'])
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async push(@CurrentProject() ctx: ProjectContext, @Param() params: Partial<WildcardParams>, @Req() request: FastifyRequest) {
    if (params['*']) throw httpErrors.notFound();
    return receivePush(this.uploads, ctx, request, false);
  }

  @Put(['symbolpackage', 'symbolpackage/*'])
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async pushSymbols(@CurrentProject() ctx: ProjectContext, @Param() params: Partial<WildcardParams>, @Req() request: FastifyRequest) {
    if (params['*']) throw httpErrors.notFound();
    return receivePush(this.uploads, ctx, request, true);
  }

  @Delete(':name/:version')
  @PackageAccess('delete')
  @HttpCode(204)
  async remove(@CurrentProject() ctx: ProjectContext, @Param('name') name: string, @Param('version') version: string) {
    await deletePackage(this.packages, ctx, name, version);
  }

}

/** A push (v3 or v2): the package part of the multipart body. */
export async function receivePush(uploads: NugetUploads, ctx: ProjectContext, request: FastifyRequest, symbols: boolean) {
  const original = request.headers[ORIGINAL_CONTENT_TYPE];
  await uploads.push({
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
  await packages.deletePackage(pkg);
}

/**
 * The group feed: discovery only (service index, registration, search, symbols) over every
 * project of the group the caller may read; downloads point at the holding project.
 */
@Controller('api/v4/groups/:id/-/packages/nuget')
export class NugetGroupController {
  constructor(
    private readonly documents: NugetDocuments,
    private readonly search: NugetSearch,
    private readonly access: AccessService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get(['index', 'index.json'])
  @PackageAccess('read', { scope: 'instance' })
  index(@Param('id') id: string, @Req() request: FastifyRequest) {
    if (!/^[1-9]\d*$/.test(id)) throw httpErrors.badRequest('id is invalid');
    return serviceIndex(groupBase(origin(this.config, request), Number(id)), 'group');
  }

  /** GitLab asks anonymous callers to log in even on public groups: NuGet only sends credentials after a challenge. */
  private scope(group: Namespace, principal: Principal): { groupId: number; readable: SqlCondition } {
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
    return { groupId: group.id, readable: this.access.readableProjects(principal) };
  }

  @Get('metadata/*')
  @PackageAccess('read', { scope: 'group' })
  async metadata(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const scope = this.scope(group, principal);
    const urls = groupUrls(origin(this.config, request), group.id);
    return registration(this.documents, scope, `g${group.id}`, urls, params['*'], request, reply);
  }

  @Get('query')
  @PackageAccess('read', { scope: 'group' })
  query(@CurrentGroup() group: Namespace, @CurrentPrincipal() principal: Principal, @Query() query: SearchQuery, @Req() request: FastifyRequest) {
    const scope = this.scope(group, principal);
    return this.search.search({ groupId: group.id }, scope.readable, groupUrls(origin(this.config, request), group.id), query);
  }

}
