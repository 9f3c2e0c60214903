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
  StowageConfig,
} from '@stowage/core';

import { type IndexFile, renderProjectPage, renderRootIndex, type SimpleFormat } from './pypi.metadata';
import { canonicalVersion, distNameCandidates, METADATA_SUFFIX, normalizePypiName, PYPI } from './pypi.naming';

/** A project's index, or a group's (the projects in it the caller may read). */
export type PypiScope = { kind: 'project'; projectId: number } | { kind: 'group'; groupId: number; scope: PackageScope };

/** What the upload stored on each distribution file row. */
export interface PypiFileMetadata {
  requires_python?: string;
  filetype?: string;
  pyversion?: string;
  core_metadata_sha256?: string;
  yanked?: string | true;
}

function packageScope(s: PypiScope): PackageScope {
  return s.kind === 'project' ? { projectId: s.projectId } : s.scope;
}

/**
 * Reads the simple index of a scope: renders each document once per revision (two queries
 * however many files: versions, then their files) and keeps the bytes in core's
 * RenderedDocuments for the next reader.
 */
@Injectable()
export class PypiIndex {
  constructor(
    private readonly packages: PackageService,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    private readonly documents: RenderedDocuments,
  ) {}

  /** The scope's API base: `.../projects/:id/packages/pypi` or `.../groups/:id/-/packages/pypi`. */
  base(s: PypiScope): string {
    const root = externalBaseUrl(this.config);
    return s.kind === 'project'
      ? `${root}/api/v4/projects/${s.projectId}/packages/pypi`
      : `${root}/api/v4/groups/${s.groupId}/-/packages/pypi`;
  }

  private scopeKey(s: PypiScope): string {
    return s.kind === 'project' ? `p${s.projectId}` : `g${s.groupId}`;
  }

  async rootIndex(s: PypiScope, title: string, format: SimpleFormat): Promise<RenderedDocument> {
    const revision = await this.packages.scopeRevision(packageScope(s), PYPI);
    const doc = await this.documents.get(`${PYPI}\u0000root\u0000${this.scopeKey(s)}\u0000${format}\u0000${title}`, revision, async () => {
      const names = revision ? await this.packages.scopeNames(packageScope(s), PYPI) : [];
      const base = this.base(s);
      const projects = names.map((n) => ({ name: n.name, normalizedName: n.normalized_name, url: `${base}/simple/${n.normalized_name}/` }));
      return renderedDocument(renderRootIndex(title, projects, format));
    });
    return doc!;
  }

  /** The project page, or null when the scope has no live file of that name. */
  async projectPage(s: PypiScope, name: string, format: SimpleFormat): Promise<RenderedDocument | null> {
    const normalized = normalizePypiName(name);
    const revision =
      s.kind === 'project'
        ? String(await this.packages.revision({ projectId: s.projectId, packageType: PYPI, name }))
        : await this.packages.scopeRevision(s.scope, PYPI, name);
    if (revision === '0' || revision === '') return null;
    return this.documents.get(`${PYPI}\u0000page\u0000${this.scopeKey(s)}\u0000${normalized}\u0000${format}`, revision, async () => {
      const versions = await this.packages.scopeVersions(packageScope(s), PYPI, name);
      const files = await this.packages.listFiles(versions.map((p) => p.id));
      const entries = this.indexFiles(s, versions, files);
      return entries.length ? renderedDocument(renderProjectPage(normalized, entries, format)) : null;
    });
  }

  private indexFiles(s: PypiScope, versions: Package[], files: PackageFile[]): IndexFile[] {
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
  async findDownload(s: PypiScope, sha256: string, fileName: string): Promise<{ pkg: Package; file: PackageFile } | null> {
    const isMetadata = fileName.endsWith(METADATA_SUFFIX);
    const dist = isMetadata ? fileName.slice(0, -METADATA_SUFFIX.length) : fileName;
    for (const candidate of distNameCandidates(dist)) {
      const wanted = canonicalVersion(candidate.version);
      const versions = (await this.packages.scopeVersions(packageScope(s), PYPI, candidate.name)).filter(
        (p) => p.normalized_version === wanted,
      );
      for (const pkg of versions) {
        const file = await this.packages.findFile(pkg.id, dist);
        if (!file || file.file_sha256 !== sha256) continue;
        if (!isMetadata) return { pkg, file };
        const sidecar = await this.packages.findFile(pkg.id, fileName);
        return sidecar ? { pkg, file: sidecar } : null;
      }
    }
    return null;
  }
}
