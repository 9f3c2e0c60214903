import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  CurrentPrincipal,
  CurrentProject,
  CurrentScope,
  PackageAccess,
  type PackageScope,
  type Principal,
  type ProjectContext,
} from '@stowage/core';

import { NpmDistTags } from './npm.dist-tags';

type PathParams = { '*': string };

/** dist-tags of a project's package. The PUT body is the version as a JSON string (`"1.0.0"`). */
@Controller('api/v4/projects/:id/packages/npm/-/package')
export class NpmDistTagsController {
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
    @CurrentProject() ctx: ProjectContext,
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
    @CurrentProject() ctx: ProjectContext,
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
  ) {
    await this.distTags.remove(scope, params['*'], principal, ctx);
  }
}

/** Changes need the role on the project that holds the package; the guard only checks the group is visible. */
@Controller('api/v4/groups/:id/-/packages/npm/-/package')
export class NpmGroupDistTagsController {
  constructor(private readonly distTags: NpmDistTags) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  list(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list(scope, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write', { scope: 'group' })
  @HttpCode(204)
  async add(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Body() version: unknown,
  ) {
    await this.distTags.add(scope, params['*'], version, principal);
  }

  @Delete('*')
  @PackageAccess('delete', { scope: 'group' })
  @HttpCode(204)
  async remove(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    await this.distTags.remove(scope, params['*'], principal);
  }
}

@Controller('api/v4/packages/npm/-/package')
export class NpmInstanceDistTagsController {
  constructor(private readonly distTags: NpmDistTags) {}

  @Get('*')
  @PackageAccess('read', { scope: 'instance' })
  list(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list(scope, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write', { scope: 'instance' })
  @HttpCode(204)
  async add(
    @CurrentScope() scope: PackageScope,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Body() version: unknown,
  ) {
    await this.distTags.add(scope, params['*'], version, principal);
  }

  @Delete('*')
  @PackageAccess('delete', { scope: 'instance' })
  @HttpCode(204)
  async remove(@CurrentScope() scope: PackageScope, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    await this.distTags.remove(scope, params['*'], principal);
  }
}
