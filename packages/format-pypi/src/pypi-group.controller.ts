import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import {
  AccessService,
  CurrentGroup,
  CurrentPrincipal,
  FileStorage,
  type Namespace,
  PackageAccess,
  PackageService,
  type Principal,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { PypiReads } from './pypi.controller';
import { PypiErrorFilter } from './pypi.errors';
import { PypiIndex, type PypiScope } from './pypi.index';

type FileParams = { sha256: string; '*': string };

/** GitLab's group-level PyPI API (read only): every project in the group the caller may read. */
@Controller('api/v4/groups/:id/-/packages/pypi')
@UseFilters(PypiErrorFilter)
export class PypiGroupController {
  private readonly reads: PypiReads;

  constructor(
    private readonly access: AccessService,
    index: PypiIndex,
    packages: PackageService,
    storage: FileStorage,
  ) {
    this.reads = new PypiReads(index, packages, storage);
  }

  /** Index pages list only projects whose own index the caller may list; a file it names may come from any it may read. */
  private scope(group: Namespace, principal: Principal, use: 'listing' | 'download'): PypiScope {
    const readable = this.access.readableProjects(principal, { listing: use === 'listing' });
    return { kind: 'group', groupId: group.id, scope: { groupId: group.id, readable } };
  }

  @Get('simple')
  @PackageAccess('read', { scope: 'group' })
  root(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.root(this.scope(group, principal, 'listing'), group.name, request, reply);
  }

  @Get('simple/*')
  @PackageAccess('read', { scope: 'group' })
  page(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param('*') rest: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.page(this.scope(group, principal, 'listing'), group.name, rest, request, reply);
  }

  @Get('files/:sha256/*')
  @PackageAccess('read', { scope: 'group' })
  file(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param() params: FileParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reads.file(this.scope(group, principal, 'download'), params, request, reply);
  }
}
