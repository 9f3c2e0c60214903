import { Inject, Injectable } from '@nestjs/common';
import {
  externalBaseUrl,
  type Package,
  type PackageFile,
  type PackageScope,
  PackageService,
  type RenderedDocument,
  renderedDocument,
  RenderedDocuments,
  scopeKey,
  StowageConfig,
} from '@stowage/core';

import { canonicalVersion, distNameCandidates, METADATA_SUFFIX, normalizePypiName, PYPI } from './pypi.naming';
import { type IndexFile, renderProjectPage, renderRootIndex, type SimpleFormat } from './pypi.render';

/** What the upload stored on each distribution file row. */
export interface PypiFileMetadata {
  requires_python?: string;
  filetype?: string;
  pyversion?: string;
  core_metadata_sha256?: string;
  yanked?: string | true;
}

/**
 * Reads the simple index of a scope: renders each document once per revision (two queries
 * however many files: versions, then their files) and keeps the bytes in core's
 * RenderedDocuments for the next reader.
 */
@Injectable()
export class PypiMetadata {
  constructor(
    private readonly packages: PackageService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    private readonly documents: RenderedDocuments,
  ) {}

  /** The scope's API base: `.../projects/:id/packages/pypi` or `.../groups/:id/-/packages/pypi`. */
  base(s: PackageScope): string {
    const root = externalBaseUrl(this.config);
    if (s.kind === 'instance') throw new Error('PyPI has no instance-level API');
    return s.kind === 'project'
      ? `${root}/api/v4/projects/${s.projectId}/packages/pypi`
      : `${root}/api/v4/groups/${s.groupId}/-/packages/pypi`;
  }

  async rootIndex(s: PackageScope, title: string, format: SimpleFormat): Promise<RenderedDocument> {
    const revision = await this.packages.scopeRevision(s, PYPI);
    const doc = await this.documents.get(`${PYPI}\u0000root\u0000${scopeKey(s)}\u0000${format}\u0000${title}`, revision, async () => {
      const names = revision ? await this.packages.scopeNames(s, PYPI) : [];
      const base = this.base(s);
      const projects = names.map((n) => ({ name: n.name, normalizedName: n.normalized_name, url: `${base}/simple/${n.normalized_name}/` }));
      return renderedDocument(renderRootIndex(title, projects, format));
    });
    return doc!;
  }

  /** The project page, or null when the scope has no live file of that name. */
  async projectPage(s: PackageScope, name: string, format: SimpleFormat): Promise<RenderedDocument | null> {
    const normalized = normalizePypiName(name);
    const revision = await this.packages.scopeRevision(s, PYPI, name);
    if (revision === '') return null;
    return this.documents.get(`${PYPI}\u0000page\u0000${scopeKey(s)}\u0000${normalized}\u0000${format}`, revision, async () => {
      const versions = await this.packages.scopeVersions(s, PYPI, name);
      const files = await this.packages.listFiles(versions.map((p) => p.id));
      const entries = this.indexFiles(s, versions, files);
      return entries.length ? renderedDocument(renderProjectPage(normalized, entries, format)) : null;
    });
  }

  private indexFiles(s: PackageScope, versions: Package[], files: PackageFile[]): IndexFile[] {
    const byId = new Map(versions.map((p) => [p.id, p]));
    const base = this.base(s);
    const out: IndexFile[] = [];
    for (const f of files) {
      if (f.file_name.endsWith(METADATA_SUFFIX)) continue;
      const pkg = byId.get(f.package_id)!;
      const meta = f.metadata as PypiFileMetadata;
      out.push({
        filename: f.file_name,
        url: `${base}/files/${f.file_sha256}/${encodeURIComponent(f.file_name)}`,
        version: pkg.version,
        sha256: f.file_sha256,
        size: f.size,
        uploadTime: f.created_at,
        requiresPython: meta.requires_python ?? String(pkg.metadata.requires_python ?? ''),
        coreMetadataSha256: meta.core_metadata_sha256,
        yanked: meta.yanked ?? (pkg.metadata.yanked as string | true | undefined),
      });
    }
    return out;
  }

  /**
   * The file a download URL names: its name and sha256 must both match (GitLab's rule), and
   * `<file>.metadata` names the PEP 658 file stored beside it.
   */
  async findDownload(s: PackageScope, sha256: string, fileName: string): Promise<{ pkg: Package; file: PackageFile } | null> {
    const isMetadata = fileName.endsWith(METADATA_SUFFIX);
    const dist = isMetadata ? fileName.slice(0, -METADATA_SUFFIX.length) : fileName;
    for (const candidate of distNameCandidates(dist)) {
      for await (const { pkg, file } of this.versionFiles(s, candidate, dist)) {
        if (!file || file.file_sha256 !== sha256) continue;
        if (!isMetadata) return { pkg, file };
        const sidecar = await this.packages.findFile(pkg.id, fileName);
        return sidecar ? { pkg, file: sidecar } : null;
      }
    }
    return null;
  }

  /** Each live package of the candidate's name and version in the scope, with its file named `dist` (or null). */
  private async *versionFiles(
    s: PackageScope,
    candidate: { name: string; version: string },
    dist: string,
  ): AsyncGenerator<{ pkg: Package; file: PackageFile | null }> {
    if (s.kind === 'project') {
      // One live package per version in a project: package and file in one round trip.
      const found = await this.packages.scopePackageFile(s, { packageType: PYPI, ...candidate }, dist);
      if (found) yield found;
      return;
    }
    const wanted = canonicalVersion(candidate.version);
    const versions = (await this.packages.scopeVersions(s, PYPI, candidate.name)).filter((p) => p.normalized_version === wanted);
    for (const pkg of versions) yield { pkg, file: await this.packages.findFile(pkg.id, dist) };
  }
}
