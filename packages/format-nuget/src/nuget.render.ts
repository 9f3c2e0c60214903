import { createHash } from 'node:crypto';

import { type Package, type RenderedDocument, renderedDocument } from '@stowage/core';

import { compareVersions, normalizeName, normalizeVersion, packageFileName } from './nuget.naming';
import type { NugetPackageMetadata } from './nuget.upload';

// The v3 JSON documents (registration index/pages/leaves, flat-container versions, search),
// rendered from package rows alone: the nuspec metadata lives on the row, file names are
// derived, so a document never costs a query per version.

/** Where a document's URLs point. */
export interface FeedUrls {
  /** `…/projects/<n>/packages/nuget` or `…/groups/<n>/-/packages/nuget`: where metadata lives. */
  scopeBase: string;
  /** The project-level base of the project holding a package (downloads are project-level only). */
  projectBase(projectId: number): string;
}

export function rendered(doc: unknown): RenderedDocument {
  const body = JSON.stringify(doc);
  return renderedDocument(body, `"${createHash('sha1').update(body).digest('hex')}"`);
}

const meta = (pkg: Package) => pkg.metadata as Partial<NugetPackageMetadata>;

/** One package per normalized version (the newest row wins), in version order. */
export function sortedVersions(pkgs: readonly Package[]): Package[] {
  const byVersion = new Map<string, Package>();
  for (const p of pkgs) {
    const prev = byVersion.get(p.normalized_version);
    if (!prev || prev.id < p.id) byVersion.set(p.normalized_version, p);
  }
  return [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
}

export function leafUrl(urls: FeedUrls, pkg: Package): string {
  return `${urls.scopeBase}/metadata/${encodeURIComponent(pkg.name)}/${encodeURIComponent(pkg.normalized_version)}.json`;
}

export function contentUrl(urls: FeedUrls, pkg: Package): string {
  const id = normalizeName(pkg.name);
  return `${urls.projectBase(pkg.project_id)}/download/${encodeURIComponent(id)}/${encodeURIComponent(pkg.normalized_version)}/${encodeURIComponent(packageFileName(pkg.name, pkg.version))}`;
}

function optionalUrls(m: Partial<NugetPackageMetadata>) {
  return {
    ...(m.projectUrl ? { projectUrl: m.projectUrl } : {}),
    ...(m.licenseUrl ? { licenseUrl: m.licenseUrl } : {}),
    ...(m.iconUrl ? { iconUrl: m.iconUrl } : {}),
  };
}

export function leaf(urls: FeedUrls, pkg: Package) {
  const m = meta(pkg);
  const id = leafUrl(urls, pkg);
  const packageContent = contentUrl(urls, pkg);
  return {
    '@id': id,
    packageContent,
    catalogEntry: {
      '@id': id,
      id: pkg.name,
      version: pkg.version,
      authors: m.authors ?? '',
      description: m.description ?? '',
      summary: m.summary ?? m.description ?? '',
      ...(m.title ? { title: m.title } : {}),
      tags: m.tags ?? '',
      packageContent,
      published: pkg.created_at.toISOString(),
      ...optionalUrls(m),
      dependencyGroups: (m.dependencyGroups ?? []).map((g) => {
        const groupId = `${id}#dependencyGroup${g.targetFramework ? `/${g.targetFramework.toLowerCase()}` : ''}`;
        return {
          '@id': groupId,
          '@type': 'PackageDependencyGroup',
          ...(g.targetFramework ? { targetFramework: g.targetFramework } : {}),
          dependencies: g.dependencies.map((d) => ({
            '@id': `${groupId}/${d.id.toLowerCase()}`,
            '@type': 'PackageDependency',
            id: d.id,
            range: d.range || '(, )',
          })),
        };
      }),
    },
  };
}

export function pageUrl(urls: FeedUrls, name: string, lower: string, upper: string): string {
  return `${urls.scopeBase}/metadata/${encodeURIComponent(normalizeName(name))}/page/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}.json`;
}

export function indexUrl(urls: FeedUrls, name: string): string {
  return `${urls.scopeBase}/metadata/${encodeURIComponent(normalizeName(name))}/index.json`;
}

/** Splits sorted versions into pages of `size`. */
export function pages(sorted: readonly Package[], size: number): Package[][] {
  const out: Package[][] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
  return out;
}

/**
 * The registration index: one inline page (items included) for up to `pageSize` versions,
 * as GitLab always does; above that NuGet's paged form, each page an `@id` fetched on its own.
 */
export function registrationIndex(urls: FeedUrls, name: string, sorted: readonly Package[], pageSize: number) {
  const all = pages(sorted, pageSize);
  const inline = all.length === 1;
  return {
    '@id': indexUrl(urls, name),
    count: all.length,
    items: all.map((page) => {
      const lower = page[0].normalized_version;
      const upper = page[page.length - 1].normalized_version;
      return inline
        ? { '@id': leafUrl(urls, page[0]), lower, upper, count: page.length, items: page.map((p) => leaf(urls, p)) }
        : { '@id': pageUrl(urls, name, lower, upper), lower, upper, count: page.length };
    }),
  };
}

/** One page of a paged registration, found by its bounds; null if there is no such page. */
export function registrationPage(urls: FeedUrls, name: string, sorted: readonly Package[], pageSize: number, lower: string, upper: string) {
  const page = pages(sorted, pageSize).find((p) => p[0].normalized_version === lower && p[p.length - 1].normalized_version === upper);
  if (!page) return null;
  return {
    '@id': pageUrl(urls, name, lower, upper),
    parent: indexUrl(urls, name),
    lower,
    upper,
    count: page.length,
    items: page.map((p) => leaf(urls, p)),
  };
}

/** The flat container's `{"versions": [...]}`: normalized, lower case, in version order. */
export function versionsIndex(sorted: readonly Package[]) {
  return { versions: sorted.map((p) => normalizeVersion(p.version)) };
}

/** One search hit: the name's latest version and up to 10 most recent versions. */
export function searchResult(urls: FeedUrls, sorted: readonly Package[]) {
  const latest = sorted[sorted.length - 1];
  const m = meta(latest);
  return {
    '@type': 'Package',
    id: latest.name,
    title: m.title ?? latest.name,
    version: latest.version,
    versions: sorted.slice(-10).map((p) => ({ '@id': leafUrl(urls, p), version: p.version, downloads: 0 })),
    totalDownloads: 0,
    verified: true,
    tags: m.tags ?? '',
    authors: m.authors ?? '',
    description: m.description ?? '',
    summary: m.summary ?? m.description ?? '',
    ...optionalUrls(m),
  };
}
