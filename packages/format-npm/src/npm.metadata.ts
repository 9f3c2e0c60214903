import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { type Package, type PackageFile, PackageService, renderedDocument, RenderedDocuments, sendRendered } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { type NpmManifest, packumentManifest } from './npm.manifest';
import { NPM, registryUrl } from './npm.naming';
import { highestVersion } from './npm.semver';

/** Full packument (npm view, publish, deprecate) or npm's abbreviated install document (corgi). */
export type PackumentVariant = 'full' | 'abbreviated';

export const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json';
// npm's allow-list for version objects in the abbreviated document.
export const ABBREVIATED_FIELDS = [
  'name',
  'version',
  'deprecated',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'bundleDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'acceptDependencies',
  'bin',
  'directories',
  'engines',
  'os',
  'cpu',
  'libc',
  'funding',
  'license',
  '_hasShrinkwrap',
  'hasInstallScript',
];
/** One project's contribution to a packument and the revision it was read at. */
export interface PackumentSource {
  projectId: number;
  revision: number;
}

interface VersionEntry {
  pkg: Package;
  file: PackageFile;
}

/** `Accept: application/vnd.npm.install-v1+json` (npm's corgi request) asks for the abbreviated form. */
export function requestedVariant(request: FastifyRequest): PackumentVariant {
  const accept = request.headers.accept ?? '';
  return accept.includes(ABBREVIATED_TYPE) ? 'abbreviated' : 'full';
}

export function packumentContentType(variant: PackumentVariant): string {
  return variant === 'abbreviated' ? `${ABBREVIATED_TYPE}; charset=utf-8` : 'application/json; charset=utf-8';
}

function integrity(sha512Hex: string): string {
  return `sha512-${Buffer.from(sha512Hex, 'hex').toString('base64')}`;
}

/**
 * Renders packuments from a handful of queries per project (versions, files, tags), never
 * one per version, and keeps the rendered bytes keyed by the revisions they were read at:
 * a hot read costs the revision lookup, and a change anywhere (publish, tag, deprecate,
 * delete) bumps the revision, so a cached document is never served stale.
 */
@Injectable()
export class NpmMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly documents: RenderedDocuments,
  ) {}

  /** The live versions of a name (with their tarballs) across sources, and its dist-tags. */
  async load(name: string, sources: PackumentSource[]): Promise<{ versions: Map<string, VersionEntry>; tags: Record<string, string> }> {
    const versions = new Map<string, VersionEntry>();
    const tags: Record<string, string> = {};
    for (const { projectId } of sources) {
      const ref = { projectId, packageType: NPM, name };
      const [pkgs, tagRows] = await Promise.all([this.packages.listVersions(ref), this.packages.tags(ref)]);
      const files = new Map((await this.packages.listFiles(pkgs.map((p) => p.id))).map((f) => [f.package_id, f]));
      const byId = new Map<number, string>();
      for (const pkg of pkgs) {
        const file = files.get(pkg.id);
        if (!file || versions.has(pkg.version)) continue;
        versions.set(pkg.version, { pkg, file });
        byId.set(pkg.id, pkg.version);
      }
      for (const [tag, id] of tagRows) if (byId.has(id)) tags[tag] = byId.get(id)!;
    }
    if (!tags.latest && versions.size) tags.latest = highestVersion([...versions.keys()])!;
    return { versions, tags };
  }

  /** Answers a packument request: 304 on a matching ETag, else cached or freshly rendered bytes; false if there is none. */
  async send(
    request: FastifyRequest,
    reply: FastifyReply,
    doc: { name: string; sources: PackumentSource[]; baseUrl: string },
  ): Promise<boolean> {
    const variant = requestedVariant(request);
    const key = `${NPM}\u0000${variant}\u0000${doc.baseUrl}\u0000${doc.name}\u0000${doc.sources.map((s) => s.projectId).join(',')}`;
    const stamp = doc.sources.map((s) => s.revision).join(',');
    // A big packument is costly: concurrent misses share one render.
    const rendered = await this.documents.get(key, stamp, async () => {
      const { versions, tags } = await this.load(doc.name, doc.sources);
      if (!versions.size) return null;
      const etag = `"${createHash('sha1').update(`${key}\u0000${stamp}`).digest('base64url')}"`;
      return renderedDocument(JSON.stringify(this.render(doc, variant, versions, tags)), etag);
    });
    if (!rendered) return false;
    await sendRendered(request, reply, rendered, {
      contentType: packumentContentType(variant),
      vary: ['accept'],
    });
    return true;
  }

  private render(
    doc: { name: string; sources: PackumentSource[]; baseUrl: string },
    variant: PackumentVariant,
    entries: Map<string, VersionEntry>,
    tags: Record<string, string>,
  ): Record<string, unknown> {
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = {};
    let created = Infinity;
    let modified = 0;
    for (const [version, { pkg, file }] of entries) {
      const manifest = packumentManifest(pkg.metadata);
      const dist = {
        shasum: file.file_sha1,
        integrity: integrity(file.file_sha512),
        tarball: `${registryUrl(doc.baseUrl, { kind: 'project', projectId: pkg.project_id })}/${doc.name}/-/${file.file_name}`,
      };
      versions[version] =
        variant === 'full'
          ? { ...manifest, name: doc.name, version, _id: `${doc.name}@${version}`, dist }
          : { ...pick(manifest, ABBREVIATED_FIELDS), name: doc.name, version, dist };
      time[version] = pkg.created_at.toISOString();
      created = Math.min(created, pkg.created_at.getTime());
      modified = Math.max(modified, pkg.updated_at.getTime());
    }
    const modifiedIso = new Date(modified).toISOString();
    if (variant === 'abbreviated') return { name: doc.name, modified: modifiedIso, 'dist-tags': tags, versions };
    const latest = entries.get(tags.latest)?.pkg.metadata as NpmManifest | undefined;
    return {
      _id: doc.name,
      _rev: `${doc.sources.reduce((n, s) => n + s.revision, 0)}-stowage`,
      name: doc.name,
      ...(latest?.description !== undefined ? { description: latest.description } : {}),
      'dist-tags': tags,
      versions,
      time: { created: new Date(created).toISOString(), modified: modifiedIso, ...time },
      modified: modifiedIso,
    };
  }
}

export function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}
