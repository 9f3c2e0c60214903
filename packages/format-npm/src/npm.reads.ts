import { Inject, Injectable } from '@nestjs/common';
import {
  externalBaseUrl,
  FileStorage,
  HttpError,
  type PackageScope,
  PackageService,
  type Principal,
  StowageConfig,
  type Upstream,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { npmErrors } from './npm.errors';
import { NpmForwarding } from './npm.forwarding';
import { NpmMetadata } from './npm.metadata';
import { encodedName, NPM, type NpmName, type NpmPath, registryUrl } from './npm.naming';
import { NpmRemote } from './npm.remote';
import { NpmScopes } from './npm.scopes';

type TarballPath = Extract<NpmPath, { kind: 'tarball' }>;

const isNotFound = (err: unknown) => err instanceof HttpError && err.status === 404;

/**
 * Packument and tarball requests at any scope: what the caller may read locally first, then,
 * for a name nobody in scope holds, the upstream (a redirect, or its cached documents and files).
 */
@Injectable()
export class NpmReads {
  constructor(
    private readonly metadata: NpmMetadata,
    private readonly scopes: NpmScopes,
    private readonly forwarding: NpmForwarding,
    private readonly remote: NpmRemote,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  async send(scope: PackageScope, pkg: NpmName, principal: Principal, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const baseUrl = externalBaseUrl(this.config);
    const first = await this.forwarding.cachingFirst(scope, request, principal);
    if (first && (await this.remote.sendPackument(first, pkg, registryUrl(baseUrl, scope), request, reply, scope))) return reply;
    const local = await this.scopes.sources(scope, pkg, principal).then(
      (sources) => this.metadata.send(request, reply, { name: pkg.name, sources, baseUrl }),
      (err: unknown) => err,
    );
    if (local === true) return reply;
    const miss = local === false ? npmErrors.notFound() : local;
    const upstream = await this.upstreamFor(miss, scope, pkg, request);
    if (!upstream.caches) throw upstream.redirect(encodedName(pkg.name));
    await this.remote.sendPackument(upstream, pkg, registryUrl(baseUrl, scope), request, reply);
    return reply;
  }

  /**
   * A tarball: a local one at project scope (group and instance packuments name project-level
   * tarball URLs), else one the upstream's packument names, at any scope, in cache mode.
   */
  async sendTarball(scope: PackageScope, path: TarballPath, principal: Principal, request: FastifyRequest, reply: FastifyReply) {
    const first = await this.forwarding.cachingFirst(scope, request, principal);
    if (first && (await this.remote.sendTarball(first, path.pkg, path.version, request, reply, scope))) return reply;
    let miss: unknown;
    if (scope.kind === 'project') {
      const found = await this.packages.findPackageFile(
        { projectId: scope.projectId, packageType: NPM, name: path.pkg.name, version: path.version },
        path.fileName,
      );
      if (found?.file) {
        this.packages.markDownloaded(found.pkg, request);
        return this.storage.send(request, reply, found.file, { contentType: 'application/octet-stream' });
      }
      miss = npmErrors.notFound();
    } else {
      // The miss a packument request would get: an anonymous caller's 401 stays a 401.
      miss = await this.scopes.sources(scope, path.pkg, principal).then(
        () => npmErrors.notFound(),
        (err: unknown) => err,
      );
    }
    const upstream = await this.upstreamFor(miss, scope, path.pkg, request);
    if (!upstream.caches) throw miss;
    await this.remote.sendTarball(upstream, path.pkg, path.version, request, reply);
    return reply;
  }

  /** The upstream a local miss may go to; throws the miss when there is none. */
  private async upstreamFor(miss: unknown, scope: PackageScope, pkg: NpmName, request: FastifyRequest): Promise<Upstream> {
    const upstream = isNotFound(miss) ? await this.forwarding.forName(scope, pkg, request) : null;
    if (!upstream) throw miss;
    return upstream;
  }
}
