import { Injectable } from '@nestjs/common';
import { type PackageScope, RequestForwarding, type Upstream, Upstreams } from '@stowage/core';

import { NPM, type NpmName } from './npm.naming';

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
  forName(scope: PackageScope, pkg: NpmName): Promise<Upstream | null> {
    return this.upstreams.forName(scope, NPM, pkg.name);
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
