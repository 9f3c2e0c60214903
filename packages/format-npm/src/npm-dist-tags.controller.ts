import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  CurrentGroup,
  CurrentPrincipal,
  CurrentProject,
  type Namespace,
  PackageAccess,
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
  list(@CurrentProject() ctx: ProjectContext, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list({ kind: 'project', projectId: ctx.project.id }, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write')
  @HttpCode(204)
  async add(
    @CurrentProject() ctx: ProjectContext,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Body() version: unknown,
  ) {
    await this.distTags.add({ kind: 'project', projectId: ctx.project.id }, params['*'], version, principal, ctx);
  }

  @Delete('*')
  @PackageAccess('delete')
  @HttpCode(204)
  async remove(@CurrentProject() ctx: ProjectContext, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    await this.distTags.remove({ kind: 'project', projectId: ctx.project.id }, params['*'], principal, ctx);
  }
}

/** Changes need the role on the project that holds the package; the guard only checks the group is visible. */
@Controller('api/v4/groups/:id/-/packages/npm/-/package')
export class NpmGroupDistTagsController {
  constructor(private readonly distTags: NpmDistTags) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  list(@CurrentGroup() group: Namespace, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list({ kind: 'group', namespaceId: group.id }, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write', { scope: 'group' })
  @HttpCode(204)
  async add(
    @CurrentGroup() group: Namespace,
    @CurrentPrincipal() principal: Principal,
    @Param() params: PathParams,
    @Body() version: unknown,
  ) {
    await this.distTags.add({ kind: 'group', namespaceId: group.id }, params['*'], version, principal);
  }

  @Delete('*')
  @PackageAccess('delete', { scope: 'group' })
  @HttpCode(204)
  async remove(@CurrentGroup() group: Namespace, @CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    await this.distTags.remove({ kind: 'group', namespaceId: group.id }, params['*'], principal);
  }
}

@Controller('api/v4/packages/npm/-/package')
export class NpmInstanceDistTagsController {
  constructor(private readonly distTags: NpmDistTags) {}

  @Get('*')
  @PackageAccess('read', { scope: 'instance' })
  list(@CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    return this.distTags.list({ kind: 'instance' }, params['*'], principal);
  }

  @Put('*')
  @PackageAccess('write', { scope: 'instance' })
  @HttpCode(204)
  async add(@CurrentPrincipal() principal: Principal, @Param() params: PathParams, @Body() version: unknown) {
    await this.distTags.add({ kind: 'instance' }, params['*'], version, principal);
  }

  @Delete('*')
  @PackageAccess('delete', { scope: 'instance' })
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param() params: PathParams) {
    await this.distTags.remove({ kind: 'instance' }, params['*'], principal);
  }
}
