import { Inject, Injectable } from '@nestjs/common';
import {
  type FormatModuleOptions,
  type Package,
  type PackageScope,
  PackageService,
  type RenderedDocument,
  RenderedDocuments,
  scopeKey,
  sendRendered,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NugetFormatConfig } from './nuget.config';
import { NUGET_OPTIONS } from './nuget.module-definition';
import { normalizeName, NUGET } from './nuget.naming';
import { type FeedUrls, registrationIndex, registrationPage, rendered, sortedVersions, versionsIndex } from './nuget.render';

/** A name's live versions in a scope, in version order. */
export interface NameEntry {
  sorted: Package[];
}

/** Bytes a cached version list is counted at: its rows' metadata and their other columns. */
function listBytes(entry: NameEntry): number {
  return entry.sorted.reduce((n, p) => n + 256 + JSON.stringify(p.metadata).length, 0);
}

export type NugetDocument = { kind: 'registration' } | { kind: 'page'; lower: string; upper: string } | { kind: 'versions' };

/**
 * The per-name documents of a project or group feed, and the version list they are rendered
 * from, kept in core's RenderedDocuments under the name's revision in the scope
 * (PackageService.scopeRevision: at group scope it also moves with the caller's readable projects): a hot read costs one
 * indexed lookup, a miss the same, and a change anywhere shows on the next read in every
 * server process.
 */
@Injectable()
export class NugetMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly documents: RenderedDocuments,
    @Inject(NUGET_OPTIONS) private readonly options: FormatModuleOptions<NugetFormatConfig>,
  ) {}

  /** Every live version of a name in the scope, in version order (cached); null if none. */
  async versions(scope: PackageScope, name: string): Promise<{ entry: NameEntry | null }> {
    const stamp = await this.packages.scopeRevision(scope, NUGET, name);
    if (!stamp) return { entry: null };
    const entry = await this.versionList(scope, name, stamp);
    return { entry: entry.sorted.length ? entry : null };
  }

  private versionList(scope: PackageScope, name: string, stamp: string): Promise<NameEntry> {
    const key = `${NUGET}\u0000versions\u0000${scopeKey(scope)}\u0000${normalizeName(name)}`;
    return this.documents.get(
      key,
      stamp,
      async () => ({ sorted: sortedVersions(await this.packages.scopeVersions(scope, NUGET, name)) }),
      listBytes,
    );
  }

  /** A rendered document, or null (404) when the name or page does not exist. */
  async document(scope: PackageScope, urls: FeedUrls, name: string, doc: NugetDocument): Promise<RenderedDocument | null> {
    const stamp = await this.packages.scopeRevision(scope, NUGET, name);
    if (!stamp) return null;
    const page = doc.kind === 'page' ? `${doc.lower}\u0000${doc.upper}` : '';
    const key = `${NUGET}\u0000${doc.kind}\u0000${scopeKey(scope)}\u0000${normalizeName(name)}\u0000${urls.scopeBase}\u0000${page}`;
    return this.documents.get(key, stamp, async () => {
      const { sorted } = await this.versionList(scope, name, stamp);
      if (!sorted.length) return null;
      const size = this.options.config.registration_page_size;
      let body: unknown;
      switch (doc.kind) {
        case 'registration':
          body = registrationIndex(urls, name, sorted, size);
          break;
        case 'page':
          body = registrationPage(urls, name, sorted, size, doc.lower, doc.upper);
          break;
        case 'versions':
          body = versionsIndex(sorted);
          break;
      }
      return body ? rendered(body) : null;
    });
  }
}

/** Answers a rendered JSON document with its ETag; 304 when the client's copy is current. */
export function sendJson(request: FastifyRequest, reply: FastifyReply, r: RenderedDocument): Promise<FastifyReply> {
  return sendRendered(request, reply, r, { contentType: 'application/json; charset=utf-8', cacheControl: 'private, no-cache' });
}
