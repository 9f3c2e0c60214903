import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import type { PackageScope } from '../auth/package-scope';
import { StowageConfig } from '../config';
import { HttpError } from '../http/http-error';
import { PackageService } from '../packages/package.service';
import { RequestForwarding } from './request-forwarding';
import { isForwardingConfig, type UpstreamConfig } from './upstream-config';
import { UpstreamHttp } from './upstream-http';

/** One format's configured upstream registry. */
export class Upstream {
  readonly http: UpstreamHttp;

  constructor(
    readonly format: string,
    readonly config: UpstreamConfig,
  ) {
    this.http = new UpstreamHttp(config);
  }

  get caches(): boolean {
    return this.config.mode === 'cache';
  }

  /** GitLab's forwarding: a 302 to the same path at the upstream. */
  redirect(path: string): HttpError {
    return new HttpError(302, '', { location: this.http.url(path) });
  }
}

/**
 * The upstreams of the enabled formats, and the one decision every format asks before going
 * to one: a name held by any project in scope (readable by the caller or not) is answered
 * locally only, so a private name is never resolved from, nor sent to, a public registry.
 */
@Injectable()
export class Upstreams implements OnApplicationShutdown {
  private readonly byFormat = new Map<string, Upstream>();

  constructor(
    @Inject(StowageConfig) config: StowageConfig,
    private readonly forwarding: RequestForwarding,
    private readonly packages: PackageService,
  ) {
    for (const [format, c] of Object.entries(config.formats)) {
      if (isForwardingConfig(c) && c.enabled !== false) this.byFormat.set(format, new Upstream(format, c.upstream));
    }
  }

  get(format: string): Upstream | null {
    return this.byFormat.get(format) ?? null;
  }

  /**
   * The upstream in cache mode when forwarding is on at this scope, or null: a format may ask
   * its cache first, checking in the same query that nobody in scope holds the name
   * (`RemoteDocuments.getUnlessHeld`, `RemoteFiles.sendCached`), and look locally when someone does.
   */
  async caching(scope: PackageScope, format: string): Promise<Upstream | null> {
    const upstream = this.byFormat.get(format);
    return upstream?.caches && (await this.forwarding.inScope(scope, format)) ? upstream : null;
  }

  /** The upstream a request for `name` at this scope may go to, or null (answer locally). */
  async forName(scope: PackageScope, format: string, name: string): Promise<Upstream | null> {
    const upstream = this.byFormat.get(format);
    if (!upstream || !(await this.forwarding.inScope(scope, format))) return null;
    return (await this.packages.nameHeld(scope, format, name)) ? null : upstream;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.byFormat.values()].map((u) => u.http.close()));
  }
}
