import { Injectable } from '@nestjs/common';
import { FileStorage, type PackageScope, PackageService, STALE_WARNING } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { PypiMetadata } from './pypi.metadata';
import { isValidProjectName, METADATA_SUFFIX, normalizePypiName } from './pypi.naming';
import { PypiRemote } from './pypi.remote';
import { packageNotFound, requestedFormat, sendDocument } from './pypi.responses';

// find-my-way's wildcard: the file name arrives as `*`.
type FileParams = { sha256: string; '*': string };

/** Serves the simple index, project pages, files and their PEP 658 metadata for a project or group scope. */
@Injectable()
export class PypiReads {
  constructor(
    private readonly index: PypiMetadata,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    private readonly remote: PypiRemote,
  ) {}

  async root(scope: PackageScope, title: string, request: FastifyRequest, reply: FastifyReply) {
    const format = requestedFormat(request);
    return sendDocument(request, reply, await this.index.rootIndex(scope, title, format), format);
  }

  /**
   * `simple/<rest>`: `` is the root index (`simple/`), `name` or `name/` a project page: the
   * scope's own, else (a name nobody in scope holds) the upstream's, when forwarding is on.
   */
  async page(scope: PackageScope, title: string, rest: string, request: FastifyRequest, reply: FastifyReply) {
    if (rest === '') return this.root(scope, title, request, reply);
    const name = rest.endsWith('/') ? rest.slice(0, -1) : rest;
    if (!isValidProjectName(name)) throw packageNotFound();
    const normalized = normalizePypiName(name);
    // PEP 503: one canonical URL per project.
    if (normalized !== name)
      return reply
        .status(301)
        .header('location', `${this.index.base(scope)}/simple/${normalized}/`)
        .send();
    const format = requestedFormat(request);
    const doc = await this.index.projectPage(scope, name, format);
    if (doc) return sendDocument(request, reply, doc, format);
    const remote = await this.remote.page(scope, name, format);
    if (!remote) throw packageNotFound();
    return sendDocument(request, reply, remote.doc, format, remote.stale ? STALE_WARNING : undefined);
  }

  async file(scope: PackageScope, params: FileParams, request: FastifyRequest, reply: FastifyReply) {
    const fileName = params['*'];
    const found = /^[0-9a-f]{64}$/.test(params.sha256) ? await this.index.findDownload(scope, params.sha256, fileName) : null;
    if (!found) throw packageNotFound();
    const isMetadata = fileName.endsWith(METADATA_SUFFIX);
    if (!isMetadata) this.packages.markDownloaded(found.pkg, request);
    return this.storage.send(request, reply, found.file, {
      fileName,
      contentType: isMetadata ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      headers: { 'x-checksum-sha256': found.file.file_sha256 },
    });
  }
}
