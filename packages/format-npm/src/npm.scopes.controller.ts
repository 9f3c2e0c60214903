import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { CurrentPrincipal, CurrentScope, PackageAccess, type PackageScope, type Principal } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { npmErrors } from './npm.errors';
import { npmPath } from './npm.naming';
import { NpmReads } from './npm.reads';

type PathParams = { '*': string };

/** Group and instance scope serve packuments only: tarballs are project-level, as in GitLab. */
function packumentName(raw: string) {
  const path = npmPath(raw);
  if (path.kind !== 'packument') throw npmErrors.notFound();
  return path.pkg;
}

/** Group-level install: `@scope:registry=<host>/api/v4/groups/<id>/-/packages/npm/`. */
@Controller('api/v4/groups/:id/-/packages/npm')
export class NpmGroupController {
  constructor(private readonly packuments: NpmReads) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  read(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.packuments.send(scope, packumentName(params['*']), principal, request, reply);
  }
}

/** Instance-level install: names `@<root namespace>/<name>`, from `<host>/api/v4/packages/npm/`. */
@Controller('api/v4/packages/npm')
export class NpmInstanceController {
  constructor(private readonly packuments: NpmReads) {}

  @Get('*')
  @PackageAccess('read', { scope: 'instance' })
  read(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.packuments.send(scope, packumentName(params['*']), principal, request, reply);
  }
}
