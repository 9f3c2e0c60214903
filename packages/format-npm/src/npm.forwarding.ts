import { Inject, Injectable } from '@nestjs/common';
import { type FormatModuleOptions, HttpError } from '@stowage/core';

import type { NpmFormatConfig } from './npm.config';
import { NPM_OPTIONS } from './npm.module-definition';

/** GitLab's request forwarding to the public registry, when `package_requests_forwarding` is on. */
@Injectable()
export class NpmForwarding {
  constructor(@Inject(NPM_OPTIONS) private readonly options: FormatModuleOptions<NpmFormatConfig>) {}

  private target(path: string): string | undefined {
    const { package_requests_forwarding: enabled, forward_url: base } = this.options.config;
    return enabled ? `${base.replace(/\/+$/, '')}/${path}` : undefined;
  }

  /** A packument lookup failed with `err`: a 404 becomes a 302 to the public registry, if enabled. */
  packumentOr(err: unknown, name: string): never {
    const location = err instanceof HttpError && err.status === 404 ? this.target(name.replace('/', '%2f')) : undefined;
    throw location ? new HttpError(302, '', { location }) : err;
  }

  /** Where an audit request is re-POSTed (307 keeps the method and body), if enabled. */
  audit(path: string): string | undefined {
    return this.target(path);
  }
}
