import { Controller, Get, HttpCode, Param, Put, Query, Req, Res } from '@nestjs/common';
import {
  CurrentProject,
  declaredLength,
  FileStorage,
  hasBody,
  httpErrors,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  PackageService,
  type ProjectContext,
  requestStream,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { genericTarget } from './generic.naming';
import { GENERIC } from './generic.naming';
import { genericFileJson } from './generic.representation';
import { GenericUploads } from './generic.upload';

// find-my-way's wildcard: the rest of the path (sub-directories and the file name) arrives as `*`.
type TargetParams = { package_name: string; package_version: string; '*': string };

/** GitLab's generic packages API: any file, under a package name and version, by plain PUT and GET. */
@Controller('api/v4/projects/:id/packages/generic')
export class GenericController {
  constructor(
    private readonly uploads: GenericUploads,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
  ) {}

  @Put(':package_name/:package_version/*')
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async upload(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: TargetParams,
    @Query() query: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const target = genericTarget({ ...params, path: params['*'] });
    if (!hasBody(request)) throw httpErrors.invalidParam('file', 'is missing');
    const original = request.headers[ORIGINAL_CONTENT_TYPE];
    // Only a given status changes an existing package (GitLab): a plain re-upload keeps it hidden.
    const { file, select } = await this.uploads.upload({
      ctx,
      target,
      query,
      contentType: typeof original === 'string' ? original : undefined,
      body: requestStream(request),
      length: declaredLength(request),
    });
    if (select === 'package_file') {
      reply.status(200);
      return genericFileJson(file);
    }
    return { message: '201 Created' };
  }

  @Get(':package_name/:package_version/*')
  @PackageAccess('read')
  async download(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: TargetParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = genericTarget({ ...params, path: params['*'] });
    const found = await this.packages.findPackageFile(
      { projectId: ctx.project.id, packageType: GENERIC, name: target.name, version: target.version },
      target.fileName,
    );
    if (!found) throw httpErrors.notFound('Package');
    const { pkg, file } = found;
    if (!file) throw httpErrors.notFound('Package file');
    this.packages.markDownloaded(pkg, request);
    return this.storage.send(request, reply, file, {
      fileName: target.baseName,
      headers: { 'x-checksum-sha256': file.file_sha256 },
    });
  }
}
