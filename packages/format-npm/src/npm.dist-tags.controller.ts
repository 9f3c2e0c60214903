import { Body, Controller, Delete, Get, HttpCode, Injectable, Param, Put } from '@nestjs/common';
import {
  CurrentPrincipal,
  CurrentScope,
  PackageAccess,
  type PackageScope,
  type Principal,
  type ProjectContext,
  RouteProject,
  RouteScope,
} from '@stowage/core';

import { NpmDistTags } from './npm.dist-tags';

type PathParams = { '*': string };

/**
 * dist-tags of a package; the PUT body is the version as a JSON string (`"1.0.0"`). At project
 * scope the guard checks the role on the project; at group and instance scope it only checks
 * the scope is visible, and a change needs the role on the project that holds the package.
 */
@Injectable()
abstract class NpmDistTagsRoutes {
  constructor(private readonly distTags: NpmDistTags) {}

  @Get('*')
  @PackageAccess('read')
  list(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list(scope, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write')
  @HttpCode(204)
  async add(
    @RouteProject() ctx: ProjectContext | undefined,
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Body() version: unknown,
  ) {
    await this.distTags.add(scope, params['*'], version, principal, ctx);
  }

  @Delete('*')
  @PackageAccess('delete')
  @HttpCode(204)
  async remove(
    @RouteProject() ctx: ProjectContext | undefined,
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
  ) {
    await this.distTags.remove(scope, params['*'], principal, ctx);
  }
}

@Controller('api/v4/projects/:id/packages/npm/-/package')
export class NpmDistTagsController extends NpmDistTagsRoutes {}

@Controller('api/v4/groups/:id/-/packages/npm/-/package')
@RouteScope('group')
export class NpmGroupDistTagsController extends NpmDistTagsRoutes {}

@Controller('api/v4/packages/npm/-/package')
@RouteScope('instance')
export class NpmInstanceDistTagsController extends NpmDistTagsRoutes {}
