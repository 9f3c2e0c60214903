import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import {
  assertMayList,
  CurrentProject,
  CurrentScope,
  externalBaseUrl,
  httpErrors,
  linkParams,
  type Package,
  PackageAccess,
  type PackageScope,
  PackageService,
  type ProjectContext,
  StowageConfig,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { NugetPushRoutes } from './nuget.controller';
import { NugetMetadata } from './nuget.metadata';
import { isValidName, normalizeVersion, NUGET, packageFileName, validVersion } from './nuget.naming';
import { NugetUploads } from './nuget.upload';
import { groupBase, projectBase, scopeUrls } from './nuget.urls';
import {
  ATOM_FEED_TYPE,
  ATOM_TYPE,
  entryDocument,
  type EntryView,
  feedDocument,
  metadataDocument,
  serviceDocument,
  XML_TYPE,
} from './nuget-v2.feed';

type WildcardParams = { '*': string };

const unquote = (s: string) =>
  s
    .trim()
    .replace(/^'(.*)'$/, '$1')
    .replace(/''/g, "'");

/** What a v2 path asks for: `Packages(Id='x',Version='y')`, `FindPackagesById()`, `Packages()` (one id or the whole feed). */
export function parseV2Path(path: string, query: Record<string, unknown>): { id: string; version?: string } | { all: true } | null {
  let p = path;
  try {
    p = decodeURIComponent(path);
  } catch {
    return null;
  }
  const key = /^Packages\(\s*Id\s*=\s*('(?:[^']|'')*')\s*,\s*Version\s*=\s*('(?:[^']|'')*')\s*\)$/i.exec(p);
  if (key) return { id: unquote(key[1]), version: unquote(key[2]) };
  if (/^FindPackagesById\(\)$/i.test(p) && typeof query.id === 'string') return { id: unquote(query.id) };
  if (/^Packages(\(\))?$/i.test(p)) {
    const m = typeof query.$filter === 'string' ? /tolower\(Id\)\s+eq\s+('(?:[^']|'')*')/i.exec(query.$filter) : null;
    return m ? { id: unquote(m[1]) } : { all: true };
  }
  return null;
}

/** The OData query options NuGet 2.x sends on feeds: `$filter=IsLatestVersion`, `$orderby=Version desc`, `$skip`, `$top`. */
export interface FeedOptions {
  latest?: 'IsLatestVersion' | 'IsAbsoluteLatestVersion';
  descending: boolean;
  skip: number;
  top: number;
}

/** Entries per feed page; a longer feed ends with a `next` link, which NuGet follows. */
export const FEED_PAGE = 100;

export function feedOptions(query: Record<string, unknown>): FeedOptions {
  const int = (name: string, fallback: number) => {
    const v = query[name];
    if (v === undefined || v === '') return fallback;
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw httpErrors.invalidParam(name);
    return Number(v);
  };
  const filter = typeof query.$filter === 'string' ? query.$filter : '';
  const latest = /\bIsAbsoluteLatestVersion\b/.test(filter)
    ? 'IsAbsoluteLatestVersion'
    : /\bIsLatestVersion\b/.test(filter)
      ? 'IsLatestVersion'
      : undefined;
  const orderby = typeof query.$orderby === 'string' ? query.$orderby : '';
  return {
    latest,
    descending: /\bVersion\s+desc\b/i.test(orderby),
    skip: int('$skip', 0),
    top: Math.min(int('$top', FEED_PAGE), FEED_PAGE),
  };
}

/** Applies the options to entry views in feed order; `next` is the $skip of the following page, if any. */
export function applyFeedOptions(views: EntryView[], o: FeedOptions): { page: EntryView[]; next?: number } {
  let list = o.latest ? views.filter((v) => (o.latest === 'IsLatestVersion' ? v.isLatest : v.isAbsoluteLatest)) : views;
  if (o.descending) list = [...list].reverse();
  const page = list.slice(o.skip, o.skip + o.top);
  return { page, next: o.skip + page.length < list.length && page.length === FEED_PAGE ? o.skip + page.length : undefined };
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
export class NugetV2Controller extends NugetPushRoutes {
  constructor(
    private readonly documents: NugetMetadata,
    protected readonly packages: PackageService,
    protected readonly uploads: NugetUploads,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {
    super();
  }

  // Unlike GitLab, a read: NuGet 2.x learns from this first request's 401 that it must send credentials.
  @Get()
  @PackageAccess('read')
  root(@CurrentProject() ctx: ProjectContext, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, serviceDocument(`${projectBase(externalBaseUrl(this.config), ctx.project.id)}/v2`));
  }

  @Get('$metadata')
  @PackageAccess('read', { scope: 'instance' })
  metadata(@Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, metadataDocument());
  }

  @Get('*')
  @PackageAccess('read')
  async entries(
    @CurrentScope() scope: PackageScope,
    @Param() params: WildcardParams,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = parseV2Path(params['*'], query);
    if (!target) throw httpErrors.notFound();
    const urls = scopeUrls(externalBaseUrl(this.config), scope);
    const v2Base = `${urls.scopeBase}/v2`;
    const options = 'version' in target && target.version !== undefined ? null : feedOptions(query);
    let views: EntryView[] = [];
    if ('all' in target) {
      // The whole feed (`nuget list`, v2 search): every name's versions, by id then version. An
      // enumeration, unlike FindPackagesById() (one id's versions, what an install reads): 403
      // to a caller who may fetch a package but not list them.
      assertMayList(request);
      for (const { name } of await this.packages.scopeNames(scope, NUGET)) {
        const { entry } = await this.documents.versions(scope, name);
        views.push(...(await this.views(entry?.sorted ?? [])));
      }
    } else {
      if (!isValidName(target.id)) throw httpErrors.invalidParam('package_name');
      const { entry } = await this.documents.versions(scope, target.id);
      views = await this.views(entry?.sorted ?? []);
      if (target.version !== undefined) {
        const version = normalizeVersion(validVersion(target.version, 'package_version'));
        const view = views.find((v) => v.pkg.normalized_version === version);
        if (!view) throw httpErrors.notFound('Package');
        return send(reply, ATOM_TYPE, entryDocument(urls, v2Base, view));
      }
    }
    const { page, next } = applyFeedOptions(views, options!);
    const self = params['*'];
    let nextHref: string | undefined;
    if (next !== undefined) {
      const nextQuery = linkParams(request.url);
      nextQuery.set('$skip', String(next));
      nextHref = `${self}?${nextQuery}`;
    }
    return send(reply, ATOM_FEED_TYPE, feedDocument(urls, v2Base, 'id' in target ? 'FindPackagesById' : 'Packages', self, page, nextHref));
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

  // push and remove: NugetPushRoutes (NuGet 2.x deletes at `<v2 base>/<id>/<version>`; GitLab has no such route).
}

/** The group's v2 service document and $metadata (GitLab serves nothing else of v2 at group level). */
@Controller('api/v4/groups/:id/-/packages/nuget/v2')
export class NugetGroupV2Controller {
  constructor(@Inject(StowageConfig) private readonly config: StowageConfig) {}

  @Get()
  @PackageAccess('read', { scope: 'instance' })
  root(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!/^[1-9]\d*$/.test(id)) throw httpErrors.badRequest('id is invalid');
    return send(reply, XML_TYPE, serviceDocument(`${groupBase(externalBaseUrl(this.config), Number(id))}/v2`));
  }

  @Get('$metadata')
  @PackageAccess('read', { scope: 'instance' })
  metadata(@Res() reply: FastifyReply) {
    return send(reply, XML_TYPE, metadataDocument());
  }
}
