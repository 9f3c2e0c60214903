import { Controller, Delete, Get, HttpCode, Inject, Param, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CurrentProject,
  httpErrors,
  PackageAccess,
  type Package,
  PackageService,
  type ProjectContext,
  StowageConfig,
  StreamBody,
} from '@stowage/core';
import { deletePackage, receivePush } from './nuget.controller';
import { NugetUploads } from './nuget.upload';
import { NugetDocuments } from './nuget.documents';
import { ATOM_FEED_TYPE, ATOM_TYPE, type EntryView, entryDocument, feedDocument, metadataDocument, serviceDocument, XML_TYPE } from './nuget-v2.feed';
import { isValidName, normalizeVersion, packageFileName, validName, validVersion } from './nuget.naming';
import { groupBase, origin, projectBase, projectUrls } from './nuget.urls';

type WildcardParams = { '*': string };

const unquote = (s: string) => s.trim().replace(/^'(.*)'$/, '$1').replace(/''/g, "'");

/** What a v2 path asks for: `Packages(Id='x',Version='y')`, `FindPackagesById()`, `Packages()`. */
export function parseV2Path(path: string, query: Record<string, unknown>): { id: string; version?: string } | null {
  let p = path;
  try {
    p = decodeURIComponent(path);
  } catch {
    return null;
  }
  const key = /^Packages\(\s*Id\s*=\s*('(?:[^']|'')*')\s*,\s*Version\s*=\s*('(?:[^']|'')*')\s*\)$/i.exec(p);
  if (key) return { id: unquote(key[1]), version: unquote(key[2]) };
  if (/^FindPackagesById\(\)$/i.test(p) && typeof query.id === 'string') return { id: unquote(query.id) };
  if (/^Packages\(\)$/i.test(p) && typeof query.$filter === 'string') {
    const m = /tolower\(Id\)\s+eq\s+('(?:[^']|'')*')/i.exec(query.$filter);
    if (m) return { id: unquote(m[1]) };
  }
  return null;
}

function send(reply: FastifyReply, type: string, body: string): FastifyReply {
  return reply.header('content-type', type).header('dataserviceversion', '2.0;').send(body);
}

/**
 * The v2 (OData) feed NuGet 2.x reads: service document, $metadata, package entries
 * (a real 404 for unknown ones, so the client's version-spelling retries work), the
 * FindPackagesById() feed, push and delete.
 */
@Controller('api/v4/projects/:id/packages/nuget/v2')
export class NugetV2Controller {
  constructor(
    private readonly documents: NugetDocuments,
    private readonly packages: PackageService,
    private readonly uploads: NugetUploads,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  // Unlike GitLab, a read: NuGet 2.x learns from this first request's 401 that it must send credentials.
  @Get()
  @PackageAccess('read')
  root(@CurrentProject() ctx: ProjectContext, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, serviceDocument(`${projectBase(origin(this.config, request), ctx.project.id)}/v2`));
  }

  @Get('$metadata')
  @PackageAccess('read', { scope: 'instance' })
  metadata(@Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, metadataDocument());
  }

  @Get('*')
  @PackageAccess('read')
  async entries(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: WildcardParams,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = parseV2Path(params['*'], query);
    if (!target) throw httpErrors.notFound();
    if (!isValidName(target.id)) throw httpErrors.invalidParam('package_name');
    const urls = projectUrls(origin(this.config, request), ctx.project.id);
    const v2Base = `${urls.scopeBase}/v2`;
    const { entry } = await this.documents.versions({ projectId: ctx.project.id }, `p${ctx.project.id}`, target.id);
    const sorted = entry?.sorted ?? [];
    const views = await this.views(sorted);
    if (target.version !== undefined) {
      const version = normalizeVersion(validVersion(target.version, 'package_version'));
      const view = views.find((v) => v.pkg.normalized_version === version);
      if (!view) throw httpErrors.notFound('Package');
      return send(reply, ATOM_TYPE, entryDocument(urls, v2Base, view));
    }
    return send(reply, ATOM_FEED_TYPE, feedDocument(urls, v2Base, 'FindPackagesById', params['*'], views));
  }

  /** Entry views of sorted versions, with their files in one query. */
  private async views(sorted: Package[]): Promise<EntryView[]> {
    const files = await this.packages.listFiles(sorted.map((p) => p.id));
    const latestRelease = [...sorted].reverse().find((p) => !p.version.includes('-'));
    const absolute = sorted[sorted.length - 1];
    return sorted.map((pkg) => {
      const name = packageFileName(pkg.name, pkg.version);
      const file = files.filter((f) => f.package_id === pkg.id && f.file_name === name).pop();
      return { pkg, file, isLatest: pkg === latestRelease, isAbsoluteLatest: pkg === absolute };
    });
  }

  @Put(['', '*'])
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async push(@CurrentProject() ctx: ProjectContext, @Param() params: Partial<WildcardParams>, @Req() request: FastifyRequest) {
    if (params['*']) throw httpErrors.notFound();
    return receivePush(this.uploads, ctx, request, false);
  }

  // NuGet 2.x deletes at `<v2 base>/<id>/<version>`; GitLab has no such route.
  @Delete(':name/:version')
  @PackageAccess('delete')
  @HttpCode(204)
  async remove(@CurrentProject() ctx: ProjectContext, @Param('name') name: string, @Param('version') version: string) {
    await deletePackage(this.packages, ctx, validName(name), version);
  }
}

/** The group's v2 service document and $metadata (GitLab serves nothing else of v2 at group level). */
@Controller('api/v4/groups/:id/-/packages/nuget/v2')
export class NugetGroupV2Controller {
  constructor(@Inject(StowageConfig) private readonly config: StowageConfig) {}

  @Get()
  @PackageAccess('read', { scope: 'instance' })
  root(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[1-9]\d*$/.test(id)) throw httpErrors.badRequest('id is invalid');
    return send(reply, XML_TYPE, serviceDocument(`${groupBase(origin(this.config, request), Number(id))}/v2`));
  }

  @Get('$metadata')
  @PackageAccess('read', { scope: 'instance' })
  metadata(@Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, metadataDocument());
  }
}
