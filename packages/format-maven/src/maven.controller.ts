import { Controller, Get, Param, Put, Req, Res } from '@nestjs/common';
import {
  AccessService,
  CurrentGroup,
  CurrentPrincipal,
  CurrentProject,
  declaredLength,
  hasBody,
  httpErrors,
  type Namespace,
  PackageAccess,
  packageFileJson,
  PackageService,
  type Principal,
  type ProjectContext,
  requestStream,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { MavenDownloads } from './maven.download';
import { mavenTarget } from './maven.naming';
import { ProjectScope, ProjectsScope } from './maven.scope';
import { MavenUploads } from './maven.upload';

// find-my-way's wildcard: `<group path>/<artifactId>[/<version>]/<file>` arrives as `*`.
type LayoutParams = { '*': string };

/** GitLab's project-level Maven repository: download (GET/HEAD) and upload (PUT) of any file in the layout. */
@Controller('api/v4/projects/:id/packages/maven')
export class MavenProjectController {
  constructor(
    private readonly uploads: MavenUploads,
    private readonly downloads: MavenDownloads,
    private readonly packages: PackageService,
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
  async download(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: LayoutParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = mavenTarget(params['*']);
    return this.downloads.serve(new ProjectScope(this.packages, ctx.project.id), target, request, reply);
  }
}

/** GitLab's group-level Maven repository: every project of the group's tree the caller may read. */
@Controller('api/v4/groups/:id/-/packages/maven')
export class MavenGroupController {
  constructor(
    private readonly downloads: MavenDownloads,
    private readonly packages: PackageService,
    private readonly access: AccessService,
  ) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  async download(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param() params: LayoutParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = mavenTarget(params['*']);
    const scope = ProjectsScope.group(this.packages, principal, this.access.readableProjects(principal), group.id);
    return this.downloads.serve(scope, target, request, reply);
  }
}

/** GitLab's instance-level Maven repository: packages whose name starts with their (readable) project's path. */
@Controller('api/v4/packages/maven')
export class MavenInstanceController {
  constructor(
    private readonly downloads: MavenDownloads,
    private readonly packages: PackageService,
    private readonly access: AccessService,
  ) {}

  @Get('*')
  @PackageAccess('read', { scope: 'instance' })
  async download(
    @CurrentPrincipal() principal: Principal,
    @Param() params: LayoutParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const target = mavenTarget(params['*']);
    const scope = ProjectsScope.instance(this.packages, principal, this.access.readableProjects(principal));
    return this.downloads.serve(scope, target, request, reply);
  }
}
