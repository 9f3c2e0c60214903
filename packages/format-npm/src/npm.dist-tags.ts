import { Injectable } from '@nestjs/common';
import type { PackageScope, Principal, ProjectContext } from '@stowage/core';

import { NpmChanges } from './npm.changes';
import { npmErrors } from './npm.errors';
import { NpmMetadata } from './npm.metadata';
import { assertTagName, distTagPath } from './npm.naming';
import { NpmScopes } from './npm.scopes';

/**
 * `npm dist-tag ls/add/rm` at any scope (`<prefix>/-/package/<name>/dist-tags[/<tag>]`).
 * At group and instance scope a change applies to the newest readable project holding the
 * version (add) or the tag (rm), with that project's permissions.
 */
@Injectable()
export class NpmDistTags {
  constructor(
    private readonly changes: NpmChanges,
    private readonly metadata: NpmMetadata,
    private readonly scopes: NpmScopes,
  ) {}

  async list(scope: PackageScope, raw: string, principal: Principal): Promise<Record<string, string>> {
    const { pkg, tag } = distTagPath(raw);
    if (tag !== undefined) throw npmErrors.notFound();
    const { versions, tags } = await this.metadata.load(pkg.name, await this.scopes.sources(scope, pkg, principal));
    if (!versions.size) throw npmErrors.notFound();
    return tags;
  }

  /** `project` is the guard-checked project at project scope; elsewhere it is found here. */
  async add(scope: PackageScope, raw: string, version: unknown, principal: Principal, project?: ProjectContext): Promise<void> {
    const { pkg, tag } = distTagPath(raw);
    if (tag === undefined) throw npmErrors.notFound();
    assertTagName(tag);
    if (typeof version !== 'string' || !version) throw npmErrors.badRequest('"Version" not given');
    const ctx =
      project ?? (await this.scopes.projectFor(scope, pkg, principal, 'write', (id) => this.changes.hasVersion(id, pkg.name, version)));
    await this.changes.setTag(ctx, pkg.name, tag, version);
  }

  async remove(scope: PackageScope, raw: string, principal: Principal, project?: ProjectContext): Promise<void> {
    const { pkg, tag } = distTagPath(raw);
    if (tag === undefined) throw npmErrors.notFound();
    const holdsTag = (id: number) => this.changes.hasTag(id, pkg.name, tag);
    const ctx = project ?? (await this.scopes.projectFor(scope, pkg, principal, 'delete', holdsTag, npmErrors.notFound('Package tag')));
    await this.changes.removeTag(ctx, pkg.name, tag);
  }
}
