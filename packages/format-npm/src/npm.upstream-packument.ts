import { type DigestAlgorithm, isJsonObject, UpstreamError } from '@stowage/core';

import { storedManifest } from './npm.manifest';
import { ABBREVIATED_FIELDS, type PackumentVariant, pick } from './npm.metadata';
import { tarballUrl } from './npm.naming';
import { isSemver } from './npm.semver';

/** A packument as an upstream registry sent it: `versions` keyed by version, each with its `dist`. */
export type UpstreamPackument = Record<string, unknown> & { versions: Record<string, Record<string, unknown>> };

/** What serving one upstream tarball needs: where the upstream keeps it and the digest it declares. */
export interface UpstreamTarball {
  /** `dist.tarball` as the upstream wrote it (resolve it with `upstream.http.link`). */
  href: string;
  digest: { algorithm: DigestAlgorithm; hex: string } | null;
}

function malformed(name: string, why: string): UpstreamError {
  return new UpstreamError('invalid', `the packument of ${name} ${why}`);
}

/**
 * Parses an upstream packument. Versions that are not objects with a `dist` object, or whose
 * key is not a version the tarball route serves (strict SemVer; a key like `1.0.0/../..` would
 * make the rewritten URL point elsewhere on Stowage), are left out: nothing could install them.
 */
export function parseUpstreamPackument(body: Buffer, name: string): UpstreamPackument {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw malformed(name, 'is not JSON');
  }
  if (!isJsonObject(doc)) throw malformed(name, 'is not a JSON object');
  const versions: Record<string, Record<string, unknown>> = {};
  if (isJsonObject(doc.versions)) {
    for (const [version, v] of Object.entries(doc.versions))
      if (isSemver(version) && isJsonObject(v) && isJsonObject(v.dist)) versions[version] = v;
  }
  return { ...doc, versions };
}

/**
 * The digest a `dist` declares: the sha512 of its Subresource Integrity string, else its
 * `shasum` (sha1, what packages published before npm 5 have). Null when it declares neither.
 */
export function declaredDigest(dist: Record<string, unknown>): UpstreamTarball['digest'] {
  if (typeof dist.integrity === 'string') {
    for (const token of dist.integrity.trim().split(/\s+/)) {
      const m = /^sha512-([A-Za-z0-9+/]{86}==)(?:\?.*)?$/.exec(token);
      if (m) return { algorithm: 'sha512', hex: Buffer.from(m[1], 'base64').toString('hex') };
    }
  }
  if (typeof dist.shasum === 'string' && /^[0-9a-f]{40}$/i.test(dist.shasum)) return { algorithm: 'sha1', hex: dist.shasum.toLowerCase() };
  return null;
}

/** Each version's upstream tarball and declared digest. */
export function upstreamTarballs(doc: UpstreamPackument): Map<string, UpstreamTarball> {
  const out = new Map<string, UpstreamTarball>();
  for (const [version, v] of Object.entries(doc.versions)) {
    const dist = v.dist as Record<string, unknown>;
    if (typeof dist.tarball === 'string') out.set(version, { href: dist.tarball, digest: declaredDigest(dist) });
  }
  return out;
}

/**
 * The packument to serve for an upstream name: every `dist.tarball` pointing at `registry` (a
 * Stowage registry URL of the request's scope, so its tarball route serves it), digests as the
 * upstream declared them. The abbreviated form keeps what npm's own corgi document keeps.
 */
export function rewritePackument(
  doc: UpstreamPackument,
  opts: { name: string; registry: string; variant: PackumentVariant },
): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const [version, v] of Object.entries(doc.versions)) {
    const dist = { ...(v.dist as Record<string, unknown>), tarball: tarballUrl(opts.registry, opts.name, version) };
    versions[version] =
      opts.variant === 'full' ? { ...v, dist } : { ...pick(storedManifest({ ...v, name: opts.name, version }), ABBREVIATED_FIELDS), dist };
  }
  const tags: Record<string, unknown> = {};
  if (isJsonObject(doc['dist-tags']))
    for (const [tag, v] of Object.entries(doc['dist-tags'])) if (typeof v === 'string' && v in versions) tags[tag] = v;
  if (opts.variant === 'full') return { ...doc, 'dist-tags': tags, versions };
  const time = isJsonObject(doc.time) ? doc.time : {};
  const modified = typeof doc.modified === 'string' ? doc.modified : typeof time.modified === 'string' ? time.modified : undefined;
  return { name: opts.name, ...(modified ? { modified } : {}), 'dist-tags': tags, versions };
}
