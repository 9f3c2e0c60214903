import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  CurrentGroup,
  CurrentProject,
  CurrentScope,
  declaredLength,
  externalBaseUrl,
  FileStorage,
  httpErrors,
  type Namespace,
  ORIGINAL_CONTENT_TYPE,
  PackageAccess,
  type PackageScope,
  PackageService,
  type ProjectContext,
  requestStream,
  StowageConfig,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ComposerMetadata, type GroupView, isComposer2 } from './composer.metadata';
import { groupDocument, isValidName } from './composer.naming';
import { COMPOSER } from './composer.naming';
import { ComposerUploads } from './composer.upload';

type WildcardParams = { '*': string };

/**
 * GitLab's Composer repository of a group: `packages.json`, the Composer 2 `p2/` files and
 * Composer 1's provider documents. The listings name only packages of projects the caller may
 * list; a name's own file (`p2/<name>.json`, `<name>$<hash>.json`) is what an install reads and
 * comes from every project it may read.
 */
@Controller('api/v4/group/:id/-/packages/composer')
export class ComposerGroupController {
  constructor(
    private readonly metadata: ComposerMetadata,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  @Get('*')
  @PackageAccess('read', { scope: 'group' })
  async read(
    @CurrentGroup() group: Namespace,
    @CurrentScope() readable: PackageScope,
    @CurrentScope({ listing: true }) listable: PackageScope,
    @Param() params: WildcardParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const doc = groupDocument(params['*']);
    const base = externalBaseUrl(this.config);
    const view: GroupView = { readable, listable, baseUrl: base };
    const groupBase = `${new URL(base).pathname.replace(/\/+$/, '')}/api/v4/group/${group.id}/-/packages/composer`;
    // Names the document for its Last-Modified clock: one clock per document, a v1 file's hash left out.
    const docId = `${group.id}\u0000${base}\u0000${doc.kind}\u0000${'name' in doc ? doc.name : ''}`;
    switch (doc.kind) {
      case 'root': {
        const composer2 = isComposer2(request);
        return this.metadata.send(
          request,
          reply,
          `${docId}\u0000${composer2}`,
          await this.metadata.rootDocument(view, groupBase, composer2),
        );
      }
      case 'providers':
        return this.metadata.send(request, reply, docId, await this.metadata.providersDocument(view));
      case 'p2':
      case 'v1': {
        // As in GitLab, dev versions are in the main file: `~dev` is always a 404.
        const rendered = doc.kind === 'p2' && doc.dev ? null : await this.metadata.packageDocument(view, doc.name, doc.kind);
        if (!rendered) throw httpErrors.notFound();
        return this.metadata.send(request, reply, docId, rendered);
      }
    }
  }
}

/** Publishing an archive and downloading it (the `dist` URL of the metadata). */
@Controller('api/v4/projects/:id/packages/composer')
export class ComposerProjectController {
  constructor(
    private readonly uploads: ComposerUploads,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
  ) {}

  @Post()
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async publish(@CurrentProject() ctx: ProjectContext, @Req() request: FastifyRequest) {
    const original = request.headers[ORIGINAL_CONTENT_TYPE];
    await this.uploads.publish({
      ctx,
      contentType: typeof original === 'string' ? original : undefined,
      body: requestStream(request),
      length: declaredLength(request),
    });
    return { message: '201 Created' };
  }

  @Get('archives/*')
  @PackageAccess('read')
  async archive(
    @CurrentProject() ctx: ProjectContext,
    @Param() params: WildcardParams,
    @Query('sha') sha: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const path = params['*'];
    const name = path.endsWith('.zip') ? path.slice(0, -4) : '';
    if (!isValidName(name)) throw httpErrors.notFound();
    if (typeof sha !== 'string' || !sha) throw httpErrors.missingParam('sha');
    const pkgs = await this.packages.listVersions({ projectId: ctx.project.id, packageType: COMPOSER, name });
    const files = await this.packages.listFiles(pkgs.map((p) => p.id));
    const file = files.find((f) => f.file_sha1 === sha.toLowerCase());
    const pkg = file && pkgs.find((p) => p.id === file.package_id);
    if (!file || !pkg) throw httpErrors.notFound();
    this.packages.markDownloaded(pkg, request);
    return this.storage.send(request, reply, file, { fileName: file.file_name, contentType: 'application/zip' });
  }
}
