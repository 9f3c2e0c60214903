import { Inject, Injectable } from '@nestjs/common';
import { externalBaseUrl, type PackageScope, type Principal, StowageConfig } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { npmErrors } from './npm.errors';
import { NpmForwarding } from './npm.forwarding';
import { NpmMetadata } from './npm.metadata';
import type { NpmName } from './npm.naming';
import { NpmScopes } from './npm.scopes';

/** A packument request at any scope: which projects it merges, then the cached document, or a forward. */
@Injectable()
export class NpmReads {
  constructor(
    private readonly metadata: NpmMetadata,
    private readonly scopes: NpmScopes,
    private readonly forwarding: NpmForwarding,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  async send(scope: PackageScope, pkg: NpmName, principal: Principal, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const sources = await this.scopes.sources(scope, pkg, principal).catch((err) => this.forwarding.packumentOr(err, pkg.name));
    const sent = await this.metadata.send(request, reply, { name: pkg.name, sources, baseUrl: externalBaseUrl(this.config) });
    if (!sent) this.forwarding.packumentOr(npmErrors.notFound(), pkg.name);
    return reply;
  }
}
