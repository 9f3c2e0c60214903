import { Controller, Get, Injectable, Param, Req, Res } from '@nestjs/common';
import { CurrentPrincipal, CurrentScope, PackageAccess, type PackageScope, type Principal, RouteScope } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { npmErrors } from './npm.errors';
import { npmPath } from './npm.naming';
import { NpmReads } from './npm.reads';

type PathParams = { '*': string };

/**
 * Group and instance scope serve packuments; tarballs of local names are project-level, as in
 * GitLab, and those of upstream names are served at the scope that named them.
 */
@Injectable()
abstract class NpmPackumentRoutes {
  constructor(private readonly packuments: NpmReads) {}

  @Get('*')
  @PackageAccess('read')
  read(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const path = npmPath(params['*']);
    if (path.kind === 'packument') return this.packuments.send(scope, path.pkg, principal, request, reply);
    if (path.kind === 'tarball') return this.packuments.sendTarball(scope, path, principal, request, reply);
    throw npmErrors.notFound();
  }
}

/** Group-level install: `@scope:registry=<host>/api/v4/groups/<id>/-/packages/npm/`. */
@Controller('api/v4/groups/:id/-/packages/npm')
@RouteScope('group')
export class NpmGroupController extends NpmPackumentRoutes {}

/** Instance-level install: names `@<root namespace>/<name>`, from `<host>/api/v4/packages/npm/`. */
@Controller('api/v4/packages/npm')
@RouteScope('instance')
export class NpmInstanceController extends NpmPackumentRoutes {}
