import { Controller, Delete, Get, Param, Put, Query, Req, Res } from '@nestjs/common';
import { AnyBasicUsername, assertMayList, httpErrors, PackageAccess, StreamBody } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { sendEmpty, sendJson } from './conan.http';
import { binaries, type ConanFileMetadata, fileList, fileMeta, packageRevisions, recipeRevisions, searchResults } from './conan.metadata';
import { type FileKind, fileName, type FileSlot, packageId, type RecipeRef, recipeRef, refString, revision } from './conan.naming';
import { ConanUserRoutes, queryPattern, type RefParams, sendUpload } from './conan.routes';

const REF = 'conans/:name/:version/:user/:channel';
const RREV = `${REF}/revisions/:rrev`;
const PKG = `${RREV}/packages/:package_id`;
const PREV = `${PKG}/revisions/:prev`;

type RevParams = RefParams & { rrev: string };
type PkgParams = RevParams & { package_id: string };
type PrevParams = PkgParams & { prev: string };
type FileParams = RevParams & { package_id?: string; prev?: string; file_name: string };

/**
 * Conan's v2 API (recipe and package revisions), at project scope only, as in GitLab. The
 * client pings `v1/ping` for the `revisions` capability and then talks here.
 */
@Controller('api/v4/projects/:id/packages/conan/v2')
@AnyBasicUsername()
export class ConanV2Controller extends ConanUserRoutes {
  @Get('ping')
  @PackageAccess('read', { scope: 'instance' })
  ping(@Res() reply: FastifyReply) {
    return reply.status(200).header('x-conan-server-capabilities', 'revisions').header('content-length', 0).send();
  }

  @Get('conans/search')
  @PackageAccess('read')
  async search(@Req() request: FastifyRequest, @Query() query: Record<string, string>, @Res() reply: FastifyReply) {
    assertMayList(request);
    const pattern = queryPattern(query);
    const pkgs = await this.metadata.search(this.auth.routeProject(request), pattern);
    return sendJson(reply, searchResults(pkgs));
  }

  @Get(`${REF}/latest`)
  @PackageAccess('read')
  async latest(@Req() request: FastifyRequest, @Param() params: RefParams, @Res() reply: FastifyReply) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.recipe(this.auth.routeProject(request), ref);
    const [newest] = recipeRevisions(files);
    if (!newest) throw httpErrors.notFound('Revision');
    return sendJson(reply, newest);
  }

  @Get(`${REF}/revisions`)
  @PackageAccess('read')
  async revisions(@Req() request: FastifyRequest, @Param() params: RefParams, @Res() reply: FastifyReply) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.recipe(this.auth.routeProject(request), ref);
    const list = recipeRevisions(files);
    if (!list.length) throw httpErrors.notFound('Recipe');
    return sendJson(reply, { reference: refString(ref), revisions: list });
  }

  @Delete(REF)
  @PackageAccess('delete')
  async removeRecipe(@Req() request: FastifyRequest, @Param() params: RefParams, @Res() reply: FastifyReply) {
    const ctx = this.auth.routeProject(request);
    const { pkg } = await this.metadata.recipe(ctx, recipeRef(params));
    await this.removal.removeRecipe(ctx, pkg);
    return sendEmpty(reply);
  }

  @Delete(RREV)
  @PackageAccess('delete')
  async removeRevision(@Req() request: FastifyRequest, @Param() params: RevParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    await this.remove(request, ref, (m) => m.recipe_revision === rrev);
    return sendEmpty(reply);
  }

  @Get([`${REF}/search`, `${RREV}/search`])
  @PackageAccess('read')
  async binarySearch(@Req() request: FastifyRequest, @Param() params: RefParams & { rrev?: string }, @Res() reply: FastifyReply) {
    const ref = recipeRef(params);
    const { files } = await this.metadata.recipe(this.auth.routeProject(request), ref);
    const rrev = params.rrev !== undefined ? revision(params.rrev) : recipeRevisions(files)[0]?.revision;
    if (!rrev || !files.some((f) => fileMeta(f).recipe_revision === rrev)) throw httpErrors.notFound('Revision');
    return sendJson(reply, binaries(files, rrev));
  }

  @Get(`${RREV}/files`)
  @PackageAccess('read')
  async recipeFiles(@Req() request: FastifyRequest, @Param() params: RevParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    const { files } = await this.metadata.slot(this.auth.routeProject(request), ref, { kind: 'recipe', recipeRevision: rrev });
    return sendJson(reply, fileList(files));
  }

  @Get(`${RREV}/files/:file_name`)
  @PackageAccess('read')
  async downloadRecipeFile(@Req() request: FastifyRequest, @Param() params: FileParams, @Res() reply: FastifyReply) {
    return this.sendSlotFile(request, reply, { ...this.target(params, 'recipe'), ctx: this.auth.routeProject(request) });
  }

  @Put(`${RREV}/files/:file_name`)
  @PackageAccess('write')
  @StreamBody()
  async uploadRecipeFile(@Req() request: FastifyRequest, @Param() params: FileParams, @Res() reply: FastifyReply) {
    const t = this.target(params, 'recipe');
    return sendUpload(reply, await this.uploads.upload({ ...t, ctx: this.auth.routeProject(request), request }));
  }

  @Delete(`${RREV}/packages`)
  @PackageAccess('delete')
  async removeBinaries(@Req() request: FastifyRequest, @Param() params: RevParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    await this.remove(request, ref, (m) => m.conan_file_type === 'package_file' && m.recipe_revision === rrev);
    return sendEmpty(reply);
  }

  @Get([`${PKG}/latest`, `${PKG}/revisions`])
  @PackageAccess('read')
  async packageRevisions(@Req() request: FastifyRequest, @Param() params: PkgParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    const pkgid = packageId(params.package_id);
    const { files } = await this.metadata.recipe(this.auth.routeProject(request), ref);
    const list = packageRevisions(files, rrev, pkgid);
    if (!list.length) throw httpErrors.notFound('Package');
    if (request.url.split('?')[0].endsWith('/latest')) return sendJson(reply, list[0]);
    return sendJson(reply, { reference: `${refString(ref)}#${rrev}:${pkgid}`, revisions: list });
  }

  @Delete(PKG)
  @PackageAccess('delete')
  async removeBinary(@Req() request: FastifyRequest, @Param() params: PkgParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    const pkgid = packageId(params.package_id);
    await this.remove(
      request,
      ref,
      (m) => m.conan_file_type === 'package_file' && m.recipe_revision === rrev && m.conan_package_reference === pkgid,
    );
    return sendEmpty(reply);
  }

  @Delete(PREV)
  @PackageAccess('delete')
  async removePackageRevision(@Req() request: FastifyRequest, @Param() params: PrevParams, @Res() reply: FastifyReply) {
    const { ref, rrev } = this.rev(params);
    const pkgid = packageId(params.package_id);
    const prev = revision(params.prev, 'package_revision');
    await this.remove(
      request,
      ref,
      (m) =>
        m.conan_file_type === 'package_file' &&
        m.recipe_revision === rrev &&
        m.conan_package_reference === pkgid &&
        m.package_revision === prev,
    );
    return sendEmpty(reply);
  }

  @Get(`${PREV}/files`)
  @PackageAccess('read')
  async packageFiles(@Req() request: FastifyRequest, @Param() params: PrevParams, @Res() reply: FastifyReply) {
    const slot = this.target({ ...params, file_name: 'conaninfo.txt' }, 'package').slot;
    const { files } = await this.metadata.slot(this.auth.routeProject(request), recipeRef(params), slot);
    return sendJson(reply, fileList(files));
  }

  @Get(`${PREV}/files/:file_name`)
  @PackageAccess('read')
  async downloadPackageFile(@Req() request: FastifyRequest, @Param() params: FileParams, @Res() reply: FastifyReply) {
    return this.sendSlotFile(request, reply, { ...this.target(params, 'package'), ctx: this.auth.routeProject(request) });
  }

  @Put(`${PREV}/files/:file_name`)
  @PackageAccess('write')
  @StreamBody()
  async uploadPackageFile(@Req() request: FastifyRequest, @Param() params: FileParams, @Res() reply: FastifyReply) {
    const t = this.target(params, 'package');
    return sendUpload(reply, await this.uploads.upload({ ...t, ctx: this.auth.routeProject(request), request }));
  }

  private rev(params: RevParams) {
    return { ref: recipeRef(params), rrev: revision(params.rrev) };
  }

  private target(params: FileParams, kind: FileKind) {
    const { ref, rrev } = this.rev(params);
    const slot: FileSlot =
      kind === 'recipe'
        ? { kind, recipeRevision: rrev }
        : {
            kind,
            recipeRevision: rrev,
            packageId: packageId(params.package_id),
            packageRevision: revision(params.prev, 'package_revision'),
          };
    return { ref, slot, fileName: fileName(kind, params.file_name) };
  }

  /** Removes matching files (404 when none): Conan's deletes answer 200 only when something went. */
  private async remove(request: FastifyRequest, ref: RecipeRef, which: (m: ConanFileMetadata) => boolean) {
    const ctx = this.auth.routeProject(request);
    const { pkg } = await this.metadata.recipe(ctx, ref);
    const removed = await this.removal.removeFiles(ctx, pkg, (_f, m) => which(m));
    if (!removed) throw httpErrors.notFound('Revision');
  }
}
