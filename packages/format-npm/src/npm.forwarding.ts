import { Injectable } from '@nestjs/common';
import { type PackageScope, type Principal, RequestForwarding, type Upstream, Upstreams } from '@stowage/core';
import type { FastifyRequest } from 'fastify';

import { NPM, type NpmName } from './npm.naming';

/**
 * npm commands (its `Npm-Command` header) whose packument reads are about this registry's own
 * copy: `npm publish` reads it to check the version against those it holds, unpublish and
 * deprecate to change it. They are never forwarded, so the first publish of a private name
 * does not send that name to the upstream (nor fail on the upstream's versions of it).
 */
const LOCAL_COMMANDS = new Set(['publish', 'unpublish', 'deprecate', 'dist-tag', 'owner', 'access']);

function isLocalCommand(request: FastifyRequest): boolean {
  const command = request.headers['npm-command'];
  return typeof command === 'string' && LOCAL_COMMANDS.has(command);
}

/**
 * GitLab's request forwarding (`package_requests_forwarding`, per instance and group) to
 * `formats.npm.upstream`: which upstream, if any, a miss may go to.
 */
@Injectable()
export class NpmForwarding {
  constructor(
    private readonly upstreams: Upstreams,
    private readonly forwarding: RequestForwarding,
  ) {}

  /**
   * The upstream a packument or tarball of `pkg` may come from at this scope, or null (the
   * miss stands). Ask only once nothing the caller may read answered locally: a name held by
   * any project in scope never goes upstream, whoever asks.
   */
  async forName(scope: PackageScope, pkg: NpmName, request: FastifyRequest): Promise<Upstream | null> {
    if (isLocalCommand(request)) return null;
    return this.upstreams.forName(scope, NPM, pkg.name);
  }

  /**
   * The upstream whose cache is asked before the local lookup (`Upstreams.caching`): in a
   * build most names come from it, and asking it first saves that lookup and the separate
   * held check. Only where a local miss would be a 404 for this caller, so never for an
   * anonymous caller at group or instance scope (whose miss is a 401), nor for npm's own
   * commands. A name someone in scope holds is then looked up locally, as before.
   */
  async cachingFirst(scope: PackageScope, request: FastifyRequest, principal: Principal): Promise<Upstream | null> {
    if (isLocalCommand(request) || (scope.kind !== 'project' && principal.kind === 'anonymous')) return null;
    return this.upstreams.caching(scope, NPM);
  }

  /**
   * Where an audit is re-POSTed (307 keeps the method and body): the upstream in redirect
   * mode, when forwarding is on at this scope. In cache mode the dependency list, private
   * names included, is never sent out.
   */
  async audit(scope: PackageScope, path: string): Promise<string | undefined> {
    const upstream = this.upstreams.get(NPM);
    if (!upstream || upstream.caches || !(await this.forwarding.inScope(scope, NPM))) return undefined;
    return upstream.http.url(path);
  }
}
