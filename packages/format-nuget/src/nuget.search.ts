import { Injectable } from '@nestjs/common';
import { httpErrors, type PackageScope, PackageService } from '@stowage/core';

import { NugetMetadata } from './nuget.metadata';
import { isPrerelease, NUGET } from './nuget.naming';
import { type FeedUrls, searchResult } from './nuget.render';

const MAX_TAKE = 30;

function intParam(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined || value === '') return fallback;
  // At most nine digits, as core's ApiParams.integer: a longer one overflows the SQL offset (a 500).
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) < min) throw httpErrors.invalidParam(name);
  return Number(value);
}

export interface SearchQuery {
  q?: unknown;
  skip?: unknown;
  take?: unknown;
  prerelease?: unknown;
}

/** The v3 search (`query`): names matching `q` as a substring, each with its latest and up to 10 versions. */
@Injectable()
export class NugetSearch {
  constructor(
    private readonly packages: PackageService,
    private readonly documents: NugetMetadata,
  ) {}

  /** `scope` is resolved for a listing (`@CurrentScope({ listing: true })`). */
  async search(scope: PackageScope, urls: FeedUrls, query: SearchQuery) {
    const skip = intParam(query.skip, 'skip', 0, 0);
    const take = Math.min(intParam(query.take, 'take', 20, 1), MAX_TAKE);
    const prerelease = query.prerelease !== 'false';
    const text = typeof query.q === 'string' ? query.q : '';
    const found = await this.packages.searchNames(scope, NUGET, { text, limit: take, offset: skip });
    const data = [];
    for (const latest of found.packages) {
      const { entry } = await this.documents.versions({ kind: 'project', projectId: latest.project_id }, latest.name);
      const versions = (entry?.sorted ?? []).filter((p) => prerelease || !isPrerelease(p.version));
      if (versions.length) data.push(searchResult(urls, versions));
    }
    return { totalHits: found.total, data };
  }
}
