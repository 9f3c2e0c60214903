import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import { CurrentGroup, CurrentScope, type Namespace, PackageAccess, type PackageScope } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { PypiErrorFilter } from './pypi.errors';
import { PypiReads } from './pypi.reads';
import { PypiRemote, type RemoteFileParams } from './pypi.remote';

type FileParams = { sha256: string; '*': string };

/**
 * GitLab's group-level PyPI API (read only): index pages list only projects whose own index
 * the caller may list; a file it names may come from any project it may read.
 */
@Controller('api/v4/groups/:id/-/packages/pypi')
@UseFilters(PypiErrorFilter)
export class PypiGroupController {
  constructor(
    private readonly reads: PypiReads,
    private readonly remote: PypiRemote,
  ) {}

  @Get('simple')
  @PackageAccess('read', { scope: 'group' })
  root(
    @CurrentGroup() group: Namespace,
    @CurrentScope({ listing: true }) scope: PackageScope,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.root(scope, group.name, request, reply);
  }

  @Get('simple/*')
  @PackageAccess('read', { scope: 'group' })
  page(
    @CurrentGroup() group: Namespace,
    @CurrentScope({ listing: true }) scope: PackageScope,
    @Param('*') rest: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.page(scope, group.name, rest, request, reply);
  }

  @Get('files/:sha256/*')
  @PackageAccess('read', { scope: 'group' })
  file(@CurrentScope() scope: PackageScope, @Param() params: FileParams, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reads.file(scope, params, request, reply);
  }

  /** A file of the upstream's page (`<file>` or its `<file>.metadata`), cached on first download. */
  @Get('remote/:name/:sha256/*')
  @PackageAccess('read', { scope: 'group' })
  remoteFile(
    @CurrentScope() scope: PackageScope,
    @Param() params: RemoteFileParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.remote.file(scope, params, request, reply);
  }
}
