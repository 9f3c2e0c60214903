import { Readable } from 'node:stream';

import { Controller, Delete, Get, HttpCode, Inject, Logger, Param, Put, Query, Req, Res } from '@nestjs/common';
import {
  AccessService,
  assertMayList,
  contentDisposition,
  CurrentGroup,
  CurrentPrincipal,
  CurrentProject,
  declaredLength,
  etagMatches,
  externalBaseUrl,
  FileStorage,
  type FormatModuleOptions,
  httpErrors,
  type Namespace,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  type PackageFile,
  type PackageScope,
  PackageService,
  type Principal,
  type ProjectContext,
  requestStream,
  type SqlCondition,
  StowageConfig,
  StreamBody,
  unauthorizedWithChallenge,
  type ZipEntry,
  ZipError,
  ZipReader,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NugetFormatConfig } from './nuget.config';
import { NugetDocuments, sendJson } from './nuget.documents';
import { type FeedUrls, leaf, rendered } from './nuget.metadata';
import { NUGET_OPTIONS } from './nuget.module-definition';
import { isValidName, normalizeName, normalizeVersion, NUGET, packageFileName, validName, validVersion } from './nuget.naming';
import { NugetSearch, type SearchQuery } from './nuget.search';
import { MAX_PDB, type SymbolFile } from './nuget.symbols';
import { MAX_NUSPEC, NugetUploads } from './nuget.upload';
import { groupBase, groupUrls, projectBase, projectUrls, serviceIndex } from './nuget.urls';

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

const SHA256_CHECKSUM = /SHA256:([a-f0-9]{64})/gi;

const logger = new Logger('nuget');

/**
 * The bytes of the entry `pick` chooses in a stored package, or null when there is none or the
 * stored archive cannot be read (corrupt, or stored before the zip reader refused overlapping
 * entries): the client then hears the file is not there, as for a package without it, rather
 * than a 500, and the log names the stored file for the operator.
 */
async function storedEntry(
  storage: FileStorage,
  file: PackageFile,
  pick: (e: ZipEntry) => boolean,
  maxSize: number,
): Promise<Buffer | null> {
  try {
    const zip = await ZipReader.open({ size: file.size, read: (range) => storage.open(file.file_sha256, range) });
    const entry = zip.entries.find(pick);
    return entry ? await zip.readEntry(entry, { maxSize }) : null;
  } catch (err) {
    if (!(err instanceof ZipError)) throw err;
    logger.warn(`stored package file ${file.id} (${file.file_name}, sha256 ${file.file_sha256}) cannot be read: ${err.message}`);
    return null;
  }
}

/**
 * The symbol server: `<file.pdb>/<signature>/<file.pdb>` with `Symbolchecksum: SHA256:<hex>`
 * (several may be listed), answered with the PDB's bytes read from the .snupkg that indexed it
 * (https://github.com/dotnet/symstore/blob/main/docs/specs/SSQP_Key_Conventions.md). Missing
 * header 400; unknown file, signature or checksum 404.
 */
async function symbolFile(
  packages: PackageService,
  storage: FileStorage,
  enabled: boolean,
  scope: PackageScope,
  path: string,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!enabled) throw httpErrors.forbidden('Symbol server is disabled');
  const header = request.headers['symbolchecksum'];
  if (header === undefined) throw httpErrors.badRequest('Missing checksum header');
  const parts = path.split('/');
  if (parts.length !== 3 || !parts[0] || parts[0].toLowerCase() !== parts[2].toLowerCase()) throw httpErrors.notFound();
  const fileName = parts[0].toLowerCase();
  const signature = parts[1].toLowerCase();
  const checksums = [...(Array.isArray(header) ? header.join(',') : header).matchAll(SHA256_CHECKSUM)].map((m) => m[1].toLowerCase());
  for (const checksum of checksums) {
    const found = await packages.findFileByMetadata(scope, NUGET, { pdbs: [{ fileName, signature, checksum }] });
    if (!found) continue;
    const pdb = ((found.file.metadata.pdbs ?? []) as SymbolFile[]).find(
      (f) => f.fileName === fileName && f.signature === signature && f.checksum === checksum,
    );
    if (!pdb) continue;
    const bytes = await storedEntry(storage, found.file, (e) => e.name === pdb.path, MAX_PDB);
    if (!bytes) continue;
    packages.markDownloaded(found.pkg, request);
    reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', contentDisposition(parts[0]))
      .header('content-length', bytes.length);
    return reply.send(request.method === 'HEAD' ? Readable.from([]) : bytes);
  }
  throw httpErrors.notFound('Symbol file');
}

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
    private readonly documents: NugetDocuments,
    private readonly search: NugetSearch,
    protected readonly packages: PackageService,
    private readonly storage: FileStorage,
    private readonly access: AccessService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    @Inject(NUGET_OPTIONS) private readonly options: FormatModuleOptions<NugetFormatConfig>,
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
  async metadata(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const urls = projectUrls(externalBaseUrl(this.config), ctx.project.id);
    return registration(this.documents, { projectId: ctx.project.id }, `p${ctx.project.id}`, urls, params['*'], request, reply);
  }

  /** A search enumerates names: a Guest of a non-public project gets 403, though it may fetch a name it knows. */
  @Get('query')
  @PackageAccess('read')
  query(
    @CurrentProject() ctx: ProjectContext,
    @CurrentPrincipal() principal: Principal,
    @Query() query: SearchQuery,
    @Req() request: FastifyRequest,
  ) {
    assertMayList(request);
    const urls = projectUrls(externalBaseUrl(this.config), ctx.project.id);
    return this.search.search({ projectId: ctx.project.id }, this.access.readableProjects(principal, { listing: true }), urls, query);
  }

  /** The flat container: `<id>/index.json` and `<id>/<version>/<id>.<version>.nupkg|snupkg`. */
  @Get('download/*')
  @PackageAccess('read')
  async download(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
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
    const requested = parts[2].toLowerCase();
    const nuspec = requested === `${normalizeName(name)}.nuspec`;
    const symbols = requested.endsWith('.snupkg');
    if (!nuspec && !symbols && !requested.endsWith('.nupkg')) throw httpErrors.notFound();
    const pkg = await this.packages.findPackage({ projectId: ctx.project.id, packageType: NUGET, name, version });
    if (!pkg) throw httpErrors.notFound('Package');
    const fileName = packageFileName(pkg.name, pkg.version, symbols);
    const file = await this.packages.findFile(pkg.id, fileName);
    if (!file) throw httpErrors.notFound('Package file');
    if (nuspec) return this.sendNuspec(request, reply, file);
    this.packages.markDownloaded(pkg, request);
    // NuGet clients do not follow redirects (GitLab turns direct downloads off for NuGet).
    return this.storage.send(request, reply, file, { fileName, redirect: false });
  }

  /** The flat container's `<id>.nuspec`: the manifest read from the stored .nupkg through its central directory. */
  private async sendNuspec(request: FastifyRequest, reply: FastifyReply, file: PackageFile) {
    const etag = `"${file.file_sha256}-nuspec"`;
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).header('etag', etag).send();
    const isNuspec = (e: ZipEntry) => !e.isDirectory && !e.name.includes('/') && e.name.toLowerCase().endsWith('.nuspec');
    const bytes = await storedEntry(this.storage, file, isNuspec, MAX_NUSPEC);
    if (!bytes) throw httpErrors.notFound('nuspec');
    reply.header('content-type', 'application/xml; charset=utf-8').header('etag', etag).header('content-length', bytes.length);
    return reply.send(request.method === 'HEAD' ? Readable.from([]) : bytes);
  }

  // Debuggers send no credentials: public projects answer anonymously, private ones after the challenge.
  @Get('symbolfiles/*')
  @PackageAccess('read')
  async symbols(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return symbolFile(
      this.packages,
      this.storage,
      this.options.config.symbol_server_enabled,
      { projectId: ctx.project.id },
      params['*'],
      request,
      reply,
    );
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
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    @Inject(NUGET_OPTIONS) private readonly options: FormatModuleOptions<NugetFormatConfig>,
  ) {}

  @Get(['index', 'index.json'])
  @PackageAccess('read', { scope: 'instance' })
  index(@Param('id') id: string) {
    return indexFor(this.config, id, 'group');
  }

  /**
   * GitLab asks anonymous callers to log in even on public groups: NuGet only sends credentials after a challenge.
   * Search lists only projects the caller may list; a name's registration may come from any it may read.
   */
  private scope(group: Namespace, principal: Principal, use: 'listing' | 'download'): { groupId: number; readable: SqlCondition } {
    if (principal.kind === 'anonymous') throw unauthorizedWithChallenge();
    return { groupId: group.id, readable: this.access.readableProjects(principal, { listing: use === 'listing' }) };
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
    const scope = this.scope(group, principal, 'download');
    const urls = groupUrls(externalBaseUrl(this.config), group.id);
    return registration(this.documents, scope, `g${group.id}`, urls, params['*'], request, reply);
  }

  /** Symbols of every project of the group the caller may read (anonymous: the public ones). */
  @Get('symbolfiles/*')
  @PackageAccess('read', { scope: 'group' })
  async symbols(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const scope = { groupId: group.id, readable: this.access.readableProjects(principal) };
    return symbolFile(this.packages, this.storage, this.options.config.symbol_server_enabled, scope, params['*'], request, reply);
  }

  @Get('query')
  @PackageAccess('read', { scope: 'group' })
  query(@CurrentGroup() group: Namespace, @CurrentPrincipal() principal: Principal, @Query() query: SearchQuery) {
    const scope = this.scope(group, principal, 'listing');
    return this.search.search({ groupId: group.id }, scope.readable, groupUrls(externalBaseUrl(this.config), group.id), query);
  }
}
