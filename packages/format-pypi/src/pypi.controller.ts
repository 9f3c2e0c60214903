import { Controller, Get, HttpCode, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import {
  CurrentProject,
  CurrentScope,
  declaredLength,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  type PackageScope,
  type ProjectContext,
  requestStream,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { PypiErrorFilter } from './pypi.errors';
import { PypiReads } from './pypi.reads';
import { PypiRemote, type RemoteFileParams } from './pypi.remote';
import { PypiUploads } from './pypi.upload';

type FileParams = { sha256: string; '*': string };

/** GitLab's project-level PyPI API: upload (twine), simple index, downloads. */
@Controller('api/v4/projects/:id/packages/pypi')
@UseFilters(PypiErrorFilter)
export class PypiProjectController {
  constructor(
    private readonly uploads: PypiUploads,
    private readonly reads: PypiReads,
    private readonly remote: PypiRemote,
  ) {}

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
  root(
    @CurrentProject() ctx: ProjectContext,
    @CurrentScope({ listing: true }) scope: PackageScope,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.root(scope, ctx.project.name, request, reply);
  }

  @Get('simple/*')
  @PackageAccess('read')
  page(
    @CurrentProject() ctx: ProjectContext,
    @CurrentScope({ listing: true }) scope: PackageScope,
    @Param('*') rest: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.page(scope, ctx.project.name, rest, request, reply);
  }

  @Get('files/:sha256/*')
  @PackageAccess('read')
  file(@CurrentScope() scope: PackageScope, @Param() params: FileParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.file(scope, params, request, reply);
  }

  /** A file of the upstream's page (`<file>` or its `<file>.metadata`), cached on first download. */
  @Get('remote/:name/:sha256/*')
  @PackageAccess('read')
  remoteFile(
    @CurrentScope() scope: PackageScope,
    @Param() params: RemoteFileParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.remote.file(scope, params, request, reply);
  }
}
