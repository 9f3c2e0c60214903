import { Controller, Get, HttpCode, Param, Put, Req, Res, UseFilters } from '@nestjs/common';
import {
  CurrentProject,
  declaredLength,
  FileStorage,
  hasBody,
  PackageAccess,
  PackageService,
  type ProjectContext,
  requestStream,
  sendRendered,
  StreamBody,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { goError, GoErrorFilter, goNotFound } from './go.errors';
import { GoMetadata, renderInfo } from './go.metadata';
import { GoNameError, parseProxyPath, type ProxyRequest } from './go.naming';
import { GO } from './go.naming';
import { GoUploads, modFileName, zipFileName } from './go.upload';

const TEXT = 'text/plain; charset=utf-8';

/**
 * The GOPROXY protocol at GitLab's project path (`GOPROXY=<base>/api/v4/projects/:id/packages/go`),
 * plus publishing by `PUT <module>/@v/<version>.zip`. The module path has slashes, so the
 * rest of the URL arrives as find-my-way's `*` and is parsed here.
 */
@Controller('api/v4/projects/:id/packages/go')
@UseFilters(GoErrorFilter)
export class GoController {
  constructor(
    private readonly uploads: GoUploads,
    private readonly index: GoMetadata,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
  ) {}

  @Get('*')
  @PackageAccess('read')
  async proxy(@CurrentProject() ctx: ProjectContext, @Param('*') rest: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // Anything that is not a proxy URL (the go command probes path prefixes, sumdb/…/supported) is a plain miss.
    const req = this.parse(rest, (message) => goNotFound(`${rest}: ${message}`));
    const name = { projectId: ctx.project.id, packageType: GO, name: req.module };

    if (req.kind === 'list' || req.kind === 'latest') {
      const doc = await this.index.document(ctx.project.id, req.module, req.kind);
      if (!doc) throw goNotFound(`module ${req.module}: no versions published`);
      return sendRendered(request, reply, doc, { contentType: req.kind === 'list' ? TEXT : 'application/json' });
    }

    const missing = () => goNotFound(`${req.module}@${req.version}`);
    if (req.kind === 'info') {
      const pkg = await this.packages.findPackage({ ...name, version: req.version });
      if (!pkg) throw missing();
      return reply.type('application/json').send(renderInfo(pkg));
    }
    const fileName = req.kind === 'mod' ? modFileName(req.version) : zipFileName(req.version);
    const found = await this.packages.findPackageFile({ ...name, version: req.version }, fileName);
    if (!found) throw missing();
    if (!found.file) throw goNotFound(`${req.module}@${req.version}: ${fileName}`);
    const base = req.module.slice(req.module.lastIndexOf('/') + 1);
    if (req.kind === 'zip') this.packages.markDownloaded(found.pkg, request);
    return this.storage.send(request, reply, found.file, {
      fileName: `${base}@${fileName}`,
      contentType: req.kind === 'mod' ? TEXT : 'application/zip',
      headers: { 'x-checksum-sha256': found.file.file_sha256 },
    });
  }

  private parse(rest: string, refuse: (message: string) => Error): ProxyRequest {
    try {
      return parseProxyPath(rest);
    } catch (err) {
      throw err instanceof GoNameError ? refuse(err.message) : err;
    }
  }

  @Put('*')
  @PackageAccess('write')
  @StreamBody()
  @HttpCode(201)
  async upload(@CurrentProject() ctx: ProjectContext, @Param('*') rest: string, @Req() request: FastifyRequest) {
    const usage = 'PUT the module zip to <module>/@v/<version>.zip, module and version case-encoded';
    const req = this.parse(rest, (message) => goError(400, `cannot publish to "${rest}": ${message}; ${usage}`));
    if (req.kind !== 'zip') throw goError(400, `cannot publish to "${rest}": ${usage}`);
    if (!hasBody(request)) throw goError(400, 'the request body must be the module zip');
    const pkg = await this.uploads.upload({
      ctx,
      module: req.module,
      version: req.version,
      body: requestStream(request),
      length: declaredLength(request),
    });
    return { message: '201 Created', module: pkg.name, version: pkg.version };
  }
}
