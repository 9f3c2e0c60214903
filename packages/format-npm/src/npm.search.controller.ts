import { Controller, Get, Query } from '@nestjs/common';
import { ApiParams, CurrentScope, isJsonObject, type Package, PackageAccess, type PackageScope, PackageService } from '@stowage/core';

import { npmErrors } from './npm.errors';
import type { NpmManifest } from './npm.manifest';
import { NPM } from './npm.naming';

const MAX_SIZE = 250;

/** One hit as npm's `/-/v1/search` returns it (npm search prints name, description, version, date, keywords). */
function searchObject(pkg: Package) {
  const m = pkg.metadata as NpmManifest;
  return {
    package: {
      name: pkg.name,
      version: pkg.version,
      ...(typeof m.description === 'string' ? { description: m.description } : {}),
      keywords: Array.isArray(m.keywords) ? m.keywords : [],
      date: pkg.created_at.toISOString(),
      maintainers: isJsonObject(m._npmUser) && typeof m._npmUser.name === 'string' ? [{ username: m._npmUser.name, email: '' }] : [],
      links: {},
    },
    score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } },
    searchScore: 1,
  };
}

/**
 * `npm search` over the packages the caller may list, at project, group or instance scope: a
 * search enumerates names, so a Guest of a non-public project gets 403 at that project's scope
 * and none of its packages elsewhere (it may still install a name it knows).
 */
@Controller()
export class NpmSearchController {
  constructor(private readonly packages: PackageService) {}

  private async search(scope: PackageScope, query: unknown) {
    const q = new ApiParams(query, {});
    const text = q.string('text', { max: 256 }) ?? '';
    const size = Math.min(Math.max(q.integer('size') ?? 20, 1), MAX_SIZE);
    const from = Math.max(q.integer('from') ?? 0, 0);
    const { packages, total } = await this.packages.searchNames(scope, NPM, { text, limit: size, offset: from });
    return { objects: packages.map(searchObject), total, time: new Date().toUTCString() };
  }

  @Get('api/v4/projects/:id/packages/npm/-/v1/search')
  @PackageAccess('read')
  project(@CurrentScope({ listing: true, refuse: () => npmErrors.forbidden() }) scope: PackageScope, @Query() query: unknown) {
    return this.search(scope, query);
  }

  @Get('api/v4/groups/:id/-/packages/npm/-/v1/search')
  @PackageAccess('read', { scope: 'group' })
  group(@CurrentScope({ listing: true }) scope: PackageScope, @Query() query: unknown) {
    return this.search(scope, query);
  }

  @Get('api/v4/packages/npm/-/v1/search')
  @PackageAccess('read', { scope: 'instance' })
  instance(@CurrentScope({ listing: true }) scope: PackageScope, @Query() query: unknown) {
    return this.search(scope, query);
  }
}
