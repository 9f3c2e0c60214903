import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import {
  DocumentClock,
  type Package,
  type PackageFile,
  type PackageScope,
  PackageService,
  type RenderedDocument,
  renderedDocument,
  RenderedDocuments,
  sendRendered,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { COMPOSER } from './composer.naming';
import { SERVED_KEYS } from './composer.upload';

// The Composer repository documents of a group, rendered from a few queries per project
// (versions, files), never one per version, and cached as bytes keyed by the revisions of
// the projects they were read from (core's RenderedDocuments): a hot read costs the revision lookup.

const NAMES_PAGE = 1000;

/** A rendered document: the exact bytes served (and hashed, for Composer 1). */
export interface Rendered extends RenderedDocument {
  sha256: string;
}

/**
 * What a group read sees: the group, the absolute base URL, the projects whose packages the
 * caller may read (a name's metadata: what an install of a name it knows needs) and those it
 * may also list (the names in `packages.json` and the provider listings). A Guest of a
 * non-public project is in the first, not the second.
 */
export interface GroupView {
  readable: PackageScope;
  listable: PackageScope;
  baseUrl: string;
}

interface Source {
  projectId: number;
  revision: number;
}

function rendered(doc: unknown): Rendered {
  const body = JSON.stringify(doc);
  const sha256 = createHash('sha256').update(body).digest('hex');
  return { ...renderedDocument(body, `"${sha256.slice(0, 40)}"`), sha256 };
}

/** Composer 2 says so in its User-Agent (`Composer/2.5.5 (Linux; …)`); it then needs no provider hashes. */
export function isComposer2(request: FastifyRequest): boolean {
  return /\bComposer\/([2-9]|\d{2,})\./.test(request.headers['user-agent'] ?? '');
}

@Injectable()
export class ComposerMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly clock: DocumentClock,
    private readonly documents: RenderedDocuments,
  ) {}

  /**
   * Answers with ETag, Last-Modified and Cache-Control; 304 when the client's copy is current.
   * No row dates a document (a deleted version leaves none), so Last-Modified comes from the
   * database's clock of the document's bytes: every server process answers the same.
   */
  async send(request: FastifyRequest, reply: FastifyReply, doc: string, r: Rendered): Promise<FastifyReply> {
    const at = await this.clock.changedAt(`composer\u0000${doc}`, r.etag);
    return sendRendered(request, reply, r, {
      contentType: 'application/json',
      cacheControl: 'private, no-cache',
      vary: ['authorization', 'private-token', 'deploy-token', 'job-token', 'user-agent'],
      lastModified: at,
      ifModifiedSince: true,
    });
  }

  /** Projects of the group that hold the name and the caller may read, with their revisions. */
  private async sources(view: GroupView, name: string): Promise<Source[]> {
    return (await this.packages.scopeProjects(view.readable, COMPOSER, name)).filter((r) => r.revision > 0);
  }

  /** Names of the group's packages the caller may list, sorted. */
  async names(view: GroupView): Promise<string[]> {
    const names = new Set<string>();
    for (let offset = 0; ; offset += NAMES_PAGE) {
      const { packages, total } = await this.packages.searchNames(view.listable, COMPOSER, { text: '', limit: NAMES_PAGE, offset });
      for (const p of packages) names.add(p.name);
      if (offset + NAMES_PAGE >= total || !packages.length) break;
    }
    return [...names].sort();
  }

  /** The versions of a name, with their archives; the first project holding a version wins. */
  private async load(name: string, sources: Source[]): Promise<{ pkg: Package; file: PackageFile }[]> {
    const out = new Map<string, { pkg: Package; file: PackageFile }>();
    for (const { projectId } of sources) {
      const pkgs = await this.packages.listVersions({ projectId, packageType: COMPOSER, name });
      const files = new Map<number, PackageFile>();
      for (const f of await this.packages.listFiles(pkgs.map((p) => p.id))) files.set(f.package_id, f);
      for (const pkg of pkgs) {
        const file = files.get(pkg.id);
        if (file && !out.has(pkg.normalized_version)) out.set(pkg.normalized_version, { pkg, file });
      }
    }
    return [...out.values()];
  }

  /** One version as Composer installs it: the uploaded composer.json plus what the registry serves. */
  versionObject(baseUrl: string, pkg: Package, file: PackageFile): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(pkg.metadata)) if (!SERVED_KEYS.includes(k)) out[k] = v;
    out.name = pkg.name;
    out.version = pkg.version;
    out.time ??= pkg.created_at.toISOString();
    out.uid = pkg.id;
    out.dist = {
      type: 'zip',
      url: `${baseUrl}/api/v4/projects/${pkg.project_id}/packages/composer/archives/${pkg.name}.zip?sha=${file.file_sha1}`,
      reference: file.file_sha1,
      shasum: file.file_sha1,
    };
    return out;
  }

  /**
   * A name's metadata: `p2` (Composer 2, a list per name) or `v1` (Composer 1's provider
   * file, a map keyed by version). Null when the caller can read no version of it.
   */
  async packageDocument(view: GroupView, name: string, variant: 'p2' | 'v1'): Promise<Rendered | null> {
    const sources = await this.sources(view, name);
    if (!sources.length) return null;
    const key = [COMPOSER, variant, view.baseUrl, name, sources.map((s) => s.projectId).join(',')].join('\u0000');
    const revision = sources.map((s) => s.revision).join(',');
    return this.documents.get(key, revision, async () => {
      const versions = await this.load(name, sources);
      if (!versions.length) return null;
      const objects = versions.map(({ pkg, file }) => this.versionObject(view.baseUrl, pkg, file));
      const packageName = versions[0].pkg.name;
      const doc =
        variant === 'p2'
          ? { packages: { [packageName]: objects } }
          : { packages: { [packageName]: Object.fromEntries(objects.map((o) => [o.version as string, o])) } };
      return rendered(doc);
    });
  }

  /** Composer 1's `p/%hash%.json`: every listable name with the sha256 of its provider file (as served). */
  async providersDocument(view: GroupView): Promise<Rendered> {
    const providers: Record<string, { sha256: string }> = {};
    for (const name of await this.names(view)) {
      const doc = await this.packageDocument(view, name, 'v1');
      if (doc) providers[name] = { sha256: doc.sha256 };
    }
    return rendered({ providers });
  }

  /** The root packages.json: Composer 2 gets the metadata-url only, older clients the provider includes too. */
  async rootDocument(view: GroupView, groupBase: string, composer2: boolean): Promise<Rendered> {
    const names = await this.names(view);
    const doc: Record<string, unknown> = {
      packages: [],
      'metadata-url': `${groupBase}/p2/%package%.json`,
      'available-packages': names,
    };
    if (!composer2) {
      const providers = await this.providersDocument(view);
      doc['provider-includes'] = { 'p/%hash%.json': { sha256: providers.sha256 } };
      doc['providers-url'] = `${groupBase}/%package%$%hash%.json`;
    }
    return rendered(doc);
  }
}
