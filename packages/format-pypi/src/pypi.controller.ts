import { Controller, Get, HttpCode, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import {
  CurrentProject,
  declaredLength,
  FileStorage,
  httpErrors,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  PackageService,
  type ProjectContext,
  requestContext,
  requestStream,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { PypiErrorFilter } from './pypi.errors';
import { PypiIndex, type PypiScope } from './pypi.index';
import { isValidProjectName, METADATA_SUFFIX, normalizePypiName } from './pypi.naming';
import { packageNotFound, requestedFormat, sendDocument } from './pypi.responses';
import { PypiUploads } from './pypi.upload';

// find-my-way's wildcard: the file name arrives as `*`.
type FileParams = { sha256: string; '*': string };

/** Serves the simple index, project pages, files and their PEP 658 metadata for a scope. */
export class PypiReads {
  constructor(
    private readonly index: PypiIndex,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
  ) {}

  async root(scope: PypiScope, title: string, request: FastifyRequest, reply: FastifyReply) {
    const format = requestedFormat(request);
    return sendDocument(request, reply, await this.index.rootIndex(scope, title, format), format);
  }

  /** `simple/<rest>`: `` is the root index (`simple/`), `name` or `name/` a project page. */
  async page(scope: PypiScope, title: string, rest: string, request: FastifyRequest, reply: FastifyReply) {
    if (rest === '') return this.root(scope, title, request, reply);
    const name = rest.endsWith('/') ? rest.slice(0, -1) : rest;
    if (!isValidProjectName(name)) throw packageNotFound();
    const normalized = normalizePypiName(name);
    // PEP 503: one canonical URL per project.
    if (normalized !== name)
      return reply
        .status(301)
        .header('location', `${this.index.base(scope)}/simple/${normalized}/`)
        .send();
    const format = requestedFormat(request);
    const doc = await this.index.projectPage(scope, name, format);
    if (!doc) throw packageNotFound();
    return sendDocument(request, reply, doc, format);
  }

  async file(scope: PypiScope, params: FileParams, request: FastifyRequest, reply: FastifyReply) {
    const fileName = params['*'];
    const found = /^[0-9a-f]{64}$/.test(params.sha256) ? await this.index.findDownload(scope, params.sha256, fileName) : null;
    if (!found) throw packageNotFound();
    const isMetadata = fileName.endsWith(METADATA_SUFFIX);
    if (!isMetadata) this.packages.markDownloaded(found.pkg, request);
    return this.storage.send(request, reply, found.file, {
      fileName,
      contentType: isMetadata ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      headers: { 'x-checksum-sha256': found.file.file_sha256 },
    });
  }
}

/** GitLab's project-level PyPI API: upload (twine), simple index, downloads. */
@Controller('api/v4/projects/:id/packages/pypi')
@UseFilters(PypiErrorFilter)
export class PypiProjectController {
  private readonly reads: PypiReads;

  constructor(
    private readonly uploads: PypiUploads,
    index: PypiIndex,
    packages: PackageService,
    storage: FileStorage,
  ) {
    this.reads = new PypiReads(index, packages, storage);
  }

  /** The index lists; GitLab lets a Guest of a non-public project download files but not list them (403). */
  private scope(ctx: ProjectContext, listing?: FastifyRequest): PypiScope {
    if (listing && !requestContext(listing).permissions?.mayList) throw httpErrors.forbidden();
    return { kind: 'project', projectId: ctx.project.id };
  }

  @Post()
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async upload(@CurrentProject() ctx: ProjectContext, @Req() request: FastifyRequest) {
    const contentType = request.headers[ORIGINAL_CONTENT_TYPE];
    await this.uploads.upload({
      ctx,
      body: requestStream(request),
      contentType: typeof contentType === 'string' ? contentType : undefined,
      length: declaredLength(request),
    });
    return { message: '201 Created' };
  }

  @Post('authorize')
  @PackageAccess('write')
  @HttpCode(200)
  authorize() {
    // Workhorse's pre-authorisation: a standalone server only checks access.
    return {};
  }

  @Get('simple')
  @PackageAccess('read')
  root(@CurrentProject() ctx: ProjectContext, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.root(this.scope(ctx, request), ctx.project.name, request, reply);
  }

  @Get('simple/*')
  @PackageAccess('read')
  page(@CurrentProject() ctx: ProjectContext, @Param('*') rest: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.page(this.scope(ctx, request), ctx.project.name, rest, request, reply);
  }

  @Get('files/:sha256/*')
  @PackageAccess('read')
  file(@CurrentProject() ctx: ProjectContext, @Param() params: FileParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.file(this.scope(ctx), params, request, reply);
  }
}
