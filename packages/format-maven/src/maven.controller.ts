import { Controller, Get, Param, Put, Req, Res } from '@nestjs/common';
import {
  CurrentProject,
  CurrentScope,
  declaredLength,
  hasBody,
  httpErrors,
  narrowInstance,
  PackageAccess,
  packageFileJson,
  type PackageScope,
  type ProjectContext,
  requestStream,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { mavenTarget } from './maven.naming';
import { MavenReads } from './maven.reads';
import { MavenUploads } from './maven.upload';

// find-my-way's wildcard: `<group path>/<artifactId>[/<version>]/<file>` arrives as `*`.
type LayoutParams = { '*': string };

/** GitLab's project-level Maven repository: download (GET/HEAD) and upload (PUT) of any file in the layout. */
@Controller('api/v4/projects/:id/packages/maven')
export class MavenProjectController {
  constructor(
    private readonly uploads: MavenUploads,
    private readonly downloads: MavenReads,
  ) {}

  @Put('*')
  @PackageAccess('write')
  @StreamBody()
  async upload(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: LayoutParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const target = mavenTarget(params['*']);
    if (!hasBody(request)) throw httpErrors.invalidParam('file', 'is missing');
    const result = await this.uploads.upload({ ctx, target, body: requestStream(request), length: declaredLength(request) });
    reply.status(result.status);
    return 'file' in result ? packageFileJson(result.file) : '';
  }

  @Get('*')
  @PackageAccess('read')
  download(@CurrentScope() scope: PackageScope, @Param() params: LayoutParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.downloads.serve(scope, mavenTarget(params['*']), request, reply);
  }
}

/** GitLab's group-level Maven repository: every project of the group's tree the caller may read. */
@Controller('api/v4/groups/:id/-/packages/maven')
export class MavenGroupController {
  constructor(private readonly downloads: MavenReads) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  download(@CurrentScope() scope: PackageScope, @Param() params: LayoutParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.downloads.serve(scope, mavenTarget(params['*']), request, reply);
  }
}

/**
 * GitLab's instance-level Maven repository: packages whose name starts with their (readable)
 * project's full path, GitLab's naming convention for this endpoint.
 */
@Controller('api/v4/packages/maven')
export class MavenInstanceController {
  constructor(private readonly downloads: MavenReads) {}

  @Get('*')
  @PackageAccess('read', { scope: 'instance' })
  download(@CurrentScope() scope: PackageScope, @Param() params: LayoutParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const named = narrowInstance(scope, { namePrefixedByProjectPath: true });
    return this.downloads.serve(named, mavenTarget(params['*']), request, reply);
  }
}
