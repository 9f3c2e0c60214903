import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

import { Injectable } from '@nestjs/common';
import { ownedBytes, type Package, type PackageFile, PackageService } from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NpmManifest } from './npm.manifest';
import { NPM } from './npm.naming';
import { highestVersion } from './npm.semver';

const gzipAsync = promisify(gzip);

/** Full packument (npm view, publish, deprecate) or npm's abbreviated install document (corgi). */
export type PackumentVariant = 'full' | 'abbreviated';

const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json';
// npm's allow-list for version objects in the abbreviated document.
const ABBREVIATED_FIELDS = [
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
/** Rendered bytes kept per process; the least recently used documents go first. */
const CACHE_BYTES = 64 * 1024 ** 2;

/** One project's contribution to a packument and the revision it was read at. */
export interface PackumentSource {
  projectId: number;
  revision: number;
}

interface Rendered {
  /** The revisions the document was rendered at. */
  stamp: string;
  body: Buffer;
  gzipped?: Promise<Buffer>;
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

function integrity(sha512Hex: string): string {
  return `sha512-${Buffer.from(sha512Hex, 'hex').toString('base64')}`;
}

function ifNoneMatch(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match'];
  return !!header && header.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`);
}

/**
 * Renders packuments from a handful of queries per project (versions, files, tags), never
 * one per version, and keeps the rendered bytes keyed by the revisions they were read at:
 * a hot read costs the revision lookup, and a change anywhere (publish, tag, deprecate,
 * delete) bumps the revision, so a cached document is never served stale.
 */
@Injectable()
export class NpmMetadata {
  // One entry per document (variant, base URL, name, projects): a new revision replaces it.
  private readonly cache = new Map<string, Rendered>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<string, Promise<Rendered | undefined>>();

  constructor(private readonly packages: PackageService) {}

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
    const key = `${variant}\u0000${doc.baseUrl}\u0000${doc.name}\u0000${doc.sources.map((s) => s.projectId).join(',')}`;
    const stamp = doc.sources.map((s) => s.revision).join(',');
    const etag = `"${createHash('sha1').update(`${key}\u0000${stamp}`).digest('base64url')}"`;
    const withHeaders = () =>
      reply
        .header('etag', etag)
        .header('vary', 'accept, accept-encoding')
        .header('cache-control', 'no-cache')
        .header('content-type', variant === 'abbreviated' ? `${ABBREVIATED_TYPE}; charset=utf-8` : 'application/json; charset=utf-8');
    if (ifNoneMatch(request, etag)) {
      withHeaders().status(304).send();
      return true;
    }

    const rendered = this.recall(key, stamp) ?? (await this.renderOnce(key, stamp, doc, variant));
    if (!rendered) return false;
    withHeaders();
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '') && rendered.body.length > 1024) {
      rendered.gzipped ??= gzipAsync(rendered.body).then(ownedBytes);
      reply.header('content-encoding', 'gzip').send(await rendered.gzipped);
    } else {
      reply.send(rendered.body);
    }
    return true;
  }

  /** Concurrent misses of one document share a single render (a big packument is costly). */
  private renderOnce(
    key: string,
    stamp: string,
    doc: { name: string; sources: PackumentSource[]; baseUrl: string },
    variant: PackumentVariant,
  ): Promise<Rendered | undefined> {
    const flightKey = `${key}\u0000${stamp}`;
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      flight = (async () => {
        const { versions, tags } = await this.load(doc.name, doc.sources);
        if (!versions.size) return undefined;
        const rendered = { stamp, body: ownedBytes(JSON.stringify(this.render(doc, variant, versions, tags))) };
        this.remember(key, rendered);
        return rendered;
      })().finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    return flight;
  }

  private recall(key: string, stamp: string): Rendered | undefined {
    const hit = this.cache.get(key);
    if (!hit || hit.stamp !== stamp) return undefined;
    this.cache.delete(key);
    this.cache.set(key, hit);
    return hit;
  }

  private remember(key: string, rendered: Rendered): void {
    this.forget(key);
    if (rendered.body.length > CACHE_BYTES / 4) return;
    while (this.cachedBytes + rendered.body.length > CACHE_BYTES) this.forget(this.cache.keys().next().value!);
    this.cache.set(key, rendered);
    this.cachedBytes += rendered.body.length;
  }

  private forget(key: string): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.cache.delete(key);
    this.cachedBytes -= old.body.length;
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
      const manifest = pkg.metadata as NpmManifest;
      const dist = {
        shasum: file.file_sha1,
        integrity: integrity(file.file_sha512),
        tarball: `${doc.baseUrl}/api/v4/projects/${pkg.project_id}/packages/npm/${doc.name}/-/${file.file_name}`,
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

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}
