import { Body, Controller, Delete, Get, Injectable, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  AnyBasicUsername,
  assertMayList,
  CurrentScope,
  externalBaseUrl,
  httpErrors,
  PackageAccess,
  type PackageScope,
  packageScope,
  RouteScope,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { sendEmpty, sendJson } from './conan.http';
import { binaries, searchResults, snapshot } from './conan.metadata';
import { type FileKind, fileName, type FileSlot, isFileOf, packageId, recipeRef, refPath, v1Revision } from './conan.naming';
import { ConanUserRoutes, jsonObject, queryPattern, type RefParams, sendUpload } from './conan.routes';

const REF = 'conans/:name/:version/:user/:channel';
const FILES = 'files/:name/:version/:user/:channel/:rrev';

const recipeSlot: FileSlot = { kind: 'recipe', recipeRevision: '0' };
const packageSlot = (id: string): FileSlot => ({ kind: 'package', recipeRevision: '0', packageId: id, packageRevision: '0' });

/**
 * Conan's v1 API (no revisions: every revision segment is `0`), at project scope
 * (`/api/v4/projects/:id/packages/conan/v1`) or instance scope (`/api/v4/packages/conan/v1`,
 * recipe user = the project's full path with `+` for `/`). One routes class, served under
 * both prefixes by the two controllers below; each handler reads its scope with `@CurrentScope()`.
 */
@Injectable()
abstract class ConanV1Routes extends ConanUserRoutes {
  /** `x-conan-server-capabilities`: GitLab advertises `revisions` where the v2 API is served (project remotes only). */
  protected abstract readonly capabilities: string;

  /** The file URLs handed out keep the request's prefix (instance, or `projects/<id>` as given). */
  private fileUrl(request: FastifyRequest, params: RefParams, slot: FileSlot, file: string): string {
    const path = request.url.split('?')[0];
    const base = path.slice(0, path.indexOf('/packages/conan/v1/') + '/packages/conan/v1'.length);
    const where = slot.kind === 'recipe' ? '0/export' : `0/package/${slot.packageId}/0`;
    return `${externalBaseUrl(this.config)}${base}/files/${refPath(recipeRef(params))}/${where}/${file}`;
  }

  private urls(request: FastifyRequest, params: RefParams, slot: FileSlot, names: Iterable<string>) {
    return Object.fromEntries([...names].map((n) => [n, this.fileUrl(request, params, slot, n)]));
  }

  @Get('ping')
  @PackageAccess('read', { scope: 'instance' })
  ping(@Res() reply: FastifyReply) {
    return reply.status(200).header('x-conan-server-capabilities', this.capabilities).header('content-length', 0).send();
  }

  /** Recipe search lists: only projects whose packages the caller may list (a Guest of a non-public one gets 403 there, nothing here). */
  @Get('conans/search')
  @PackageAccess('read')
  async search(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Query() query: Record<string, string>,
    @Res() reply: FastifyReply,
  ) {
    const pattern = queryPattern(query);
    if (scope.kind === 'project') assertMayList(request);
    const pkgs =
      scope.kind === 'project'
        ? await this.metadata.search(this.auth.routeProject(request), pattern)
        : await this.metadata.searchInstance(packageScope(request, { listing: true }), pattern, (ref) =>
            this.auth.project(request, scope, ref, 'read', { listing: true }),
          );
    return sendJson(reply, searchResults(pkgs));
  }

  @Get(REF)
  @PackageAccess('read')
  async recipeSnapshot(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.slot(await this.auth.project(request, scope, ref, 'read'), ref, recipeSlot);
    return sendJson(reply, snapshot(files));
  }

  @Get([`${REF}/digest`, `${REF}/download_urls`])
  @PackageAccess('read')
  async recipeUrls(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.slot(await this.auth.project(request, scope, ref, 'read'), ref, recipeSlot);
    const names = request.url.split('?')[0].endsWith('/digest') ? [...files.keys()].filter((n) => n === 'conanmanifest.txt') : files.keys();
    return sendJson(reply, this.urls(request, params, recipeSlot, names));
  }

  @Post(`${REF}/upload_urls`)
  @PackageAccess('read')
  async recipeUploadUrls(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    await this.auth.project(request, scope, ref, 'read');
    return sendJson(reply, this.urls(request, params, recipeSlot, uploadNames(body, 'recipe')));
  }

  @Get(`${REF}/search`)
  @PackageAccess('read')
  async binarySearch(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.recipe(await this.auth.project(request, scope, ref, 'read'), ref);
    return sendJson(reply, binaries(files, '0'));
  }

  @Delete(REF)
  @PackageAccess('delete')
  async removeRecipe(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const ctx = await this.auth.project(request, scope, ref, 'delete');
    const { pkg } = await this.metadata.recipe(ctx, ref);
    await this.removal.removeRecipe(ctx, pkg);
    return sendEmpty(reply);
  }

  /** `conan remove -p` (not in GitLab; the recorded client uses it): `{"package_ids": [...]}`, empty = all binaries. */
  @Post(`${REF}/packages/delete`)
  @PackageAccess('delete')
  async removeBinaries(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const raw = jsonObject(body).package_ids ?? [];
    if (!Array.isArray(raw)) throw httpErrors.invalidParam('package_ids');
    const ids = raw.map((id) => packageId(String(id)));
    const ctx = await this.auth.project(request, scope, ref, 'delete');
    const { pkg } = await this.metadata.recipe(ctx, ref);
    await this.removal.removeFiles(
      ctx,
      pkg,
      (_f, m) =>
        m.conan_file_type === 'package_file' && m.recipe_revision === '0' && (!ids.length || ids.includes(m.conan_package_reference!)),
    );
    return sendEmpty(reply);
  }

  /** Files present remotely but no longer locally (`{"files": [...]}`). */
  @Post(`${REF}/remove_files`)
  @PackageAccess('delete')
  async removeRecipeFiles(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const names = jsonObject(body).files;
    if (!Array.isArray(names)) throw httpErrors.invalidParam('files');
    const ctx = await this.auth.project(request, scope, ref, 'delete');
    const { pkg } = await this.metadata.recipe(ctx, ref);
    await this.removal.removeFiles(
      ctx,
      pkg,
      (f, m) => m.conan_file_type === 'recipe_file' && m.recipe_revision === '0' && names.includes(f.file_name),
    );
    return sendEmpty(reply);
  }

  @Get(`${REF}/packages/:package_id`)
  @PackageAccess('read')
  async packageSnapshot(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams & { package_id: string },
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const slot = packageSlot(packageId(params.package_id));
    const { files } = await this.metadata.slot(await this.auth.project(request, scope, ref, 'read'), ref, slot);
    return sendJson(reply, snapshot(files));
  }

  @Get([`${REF}/packages/:package_id/digest`, `${REF}/packages/:package_id/download_urls`])
  @PackageAccess('read')
  async packageUrls(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams & { package_id: string },
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const slot = packageSlot(packageId(params.package_id));
    const { files } = await this.metadata.slot(await this.auth.project(request, scope, ref, 'read'), ref, slot);
    const names = request.url.split('?')[0].endsWith('/digest') ? [...files.keys()].filter((n) => n === 'conanmanifest.txt') : files.keys();
    return sendJson(reply, this.urls(request, params, slot, names));
  }

  @Post(`${REF}/packages/:package_id/upload_urls`)
  @PackageAccess('read')
  async packageUploadUrls(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: RefParams & { package_id: string },
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const ref = recipeRef(params);
    const slot = packageSlot(packageId(params.package_id));
    await this.auth.project(request, scope, ref, 'read');
    return sendJson(reply, this.urls(request, params, slot, uploadNames(body, 'package')));
  }

  @Get(`${FILES}/export/:file_name`)
  @PackageAccess('read')
  async downloadRecipeFile(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: FileParams,
    @Res() reply: FastifyReply,
  ) {
    const t = this.target(params, 'recipe');
    return this.sendSlotFile(request, reply, { ...t, ctx: await this.auth.project(request, scope, t.ref, 'read') });
  }

  @Put(`${FILES}/export/:file_name`)
  @PackageAccess('write')
  @StreamBody()
  async uploadRecipeFile(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: FileParams,
    @Res() reply: FastifyReply,
  ) {
    const t = this.target(params, 'recipe');
    const ctx = await this.auth.project(request, scope, t.ref, 'write');
    return sendUpload(reply, await this.uploads.upload({ ...t, ctx, request }));
  }

  @Get(`${FILES}/package/:package_id/:prev/:file_name`)
  @PackageAccess('read')
  async downloadPackageFile(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: FileParams,
    @Res() reply: FastifyReply,
  ) {
    const t = this.target(params, 'package');
    return this.sendSlotFile(request, reply, { ...t, ctx: await this.auth.project(request, scope, t.ref, 'read') });
  }

  @Put(`${FILES}/package/:package_id/:prev/:file_name`)
  @PackageAccess('write')
  @StreamBody()
  async uploadPackageFile(
    @CurrentScope() scope: PackageScope,
    @Req() request: FastifyRequest,
    @Param() params: FileParams,
    @Res() reply: FastifyReply,
  ) {
    const t = this.target(params, 'package');
    const ctx = await this.auth.project(request, scope, t.ref, 'write');
    return sendUpload(reply, await this.uploads.upload({ ...t, ctx, request }));
  }

  private target(params: FileParams, kind: FileKind) {
    const ref = recipeRef(params);
    v1Revision(params.rrev);
    if (kind === 'package') v1Revision(params.prev);
    const slot = kind === 'recipe' ? recipeSlot : packageSlot(packageId(params.package_id));
    return { ref, slot, fileName: fileName(kind, params.file_name) };
  }
}

type FileParams = RefParams & { rrev: string; package_id?: string; prev?: string; file_name: string };

/** `upload_urls` body `{file: size}`: names of the other kind or unknown names are dropped (GitLab). */
function uploadNames(body: unknown, kind: FileKind): string[] {
  return Object.keys(jsonObject(body)).filter((n) => isFileOf(kind, n));
}

@Controller('api/v4/projects/:id/packages/conan/v1')
@AnyBasicUsername()
export class ConanV1ProjectController extends ConanV1Routes {
  protected readonly capabilities = 'revisions';
}

@Controller('api/v4/packages/conan/v1')
@AnyBasicUsername()
@RouteScope('instance')
export class ConanV1InstanceController extends ConanV1Routes {
  protected readonly capabilities = '';
}
