import { Inject, Injectable } from '@nestjs/common';
import { type FormatModuleOptions, type Package, type PackageScope, PackageService } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NugetFormatConfig } from './nuget.config';
import {
  type FeedUrls,
  registrationIndex,
  registrationPage,
  type Rendered,
  rendered,
  sortedVersions,
  versionsIndex,
} from './nuget.metadata';
import { NUGET_OPTIONS } from './nuget.module-definition';
import { normalizeName, NUGET } from './nuget.naming';

const MAX_NAMES = 1000;
const MAX_DOCS_PER_NAME = 64;

interface NameEntry {
  stamp: string;
  sorted: Package[];
  docs: Map<string, Rendered>;
}

export type NugetDocument = { kind: 'registration' } | { kind: 'page'; lower: string; upper: string } | { kind: 'versions' };

/**
 * The per-name documents of a project or group feed, cached as bytes under the name's
 * revision (PackageService.revision, or scopeRevision for a group with the caller's
 * readable projects): a hot read costs one indexed lookup, a miss the same, and a change
 * anywhere shows on the next read in every server process.
 */
@Injectable()
export class NugetDocuments {
  private readonly cache = new Map<string, NameEntry>();

  constructor(
    private readonly packages: PackageService,
    @Inject(NUGET_OPTIONS) private readonly options: FormatModuleOptions<NugetFormatConfig>,
  ) {}

  private async stamp(scope: PackageScope, name: string): Promise<string> {
    if ('projectId' in scope) {
      const rev = await this.packages.revision({ projectId: scope.projectId, packageType: NUGET, name });
      return rev === 0 ? '' : String(rev);
    }
    return this.packages.scopeRevision(scope, NUGET, name);
  }

  /** Every live version of a name in the scope, in version order (cached); empty if none. */
  async versions(scope: PackageScope, scopeKey: string, name: string): Promise<{ entry: NameEntry | null }> {
    const stamp = await this.stamp(scope, name);
    if (!stamp) return { entry: null };
    const key = `${scopeKey}\u0000${normalizeName(name)}`;
    const hit = this.cache.get(key);
    if (hit && hit.stamp === stamp) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return { entry: hit.sorted.length ? hit : null };
    }
    const pkgs =
      'projectId' in scope
        ? await this.packages.listVersions({ projectId: scope.projectId, packageType: NUGET, name })
        : await this.packages.scopeVersions(scope, NUGET, name);
    const entry: NameEntry = { stamp, sorted: sortedVersions(pkgs), docs: new Map() };
    this.cache.set(key, entry);
    if (this.cache.size > MAX_NAMES) this.cache.delete(this.cache.keys().next().value!);
    return { entry: entry.sorted.length ? entry : null };
  }

  /** A rendered document, or null (404) when the name or page does not exist. */
  async document(scope: PackageScope, scopeKey: string, urls: FeedUrls, name: string, doc: NugetDocument): Promise<Rendered | null> {
    const { entry } = await this.versions(scope, scopeKey, name);
    if (!entry) return null;
    const docKey = `${urls.scopeBase}\u0000${doc.kind}\u0000${doc.kind === 'page' ? `${doc.lower}\u0000${doc.upper}` : ''}`;
    const cached = entry.docs.get(docKey);
    if (cached) return cached;
    const size = this.options.config.registration_page_size;
    let body: unknown;
    switch (doc.kind) {
      case 'registration':
        body = registrationIndex(urls, name, entry.sorted, size);
        break;
      case 'page':
        body = registrationPage(urls, name, entry.sorted, size, doc.lower, doc.upper);
        break;
      case 'versions':
        body = versionsIndex(entry.sorted);
        break;
    }
    if (!body) return null;
    const r = rendered(body);
    if (entry.docs.size >= MAX_DOCS_PER_NAME) entry.docs.delete(entry.docs.keys().next().value!);
    entry.docs.set(docKey, r);
    return r;
  }
}

/** Answers a rendered JSON document with its ETag; 304 when the client's copy is current. */
export function sendJson(request: FastifyRequest, reply: FastifyReply, r: Rendered): FastifyReply {
  reply.header('content-type', 'application/json; charset=utf-8').header('etag', r.etag).header('cache-control', 'private, no-cache');
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === r.etag)) return reply.status(304).send();
  return reply.header('content-length', r.body.length).send(r.body);
}
