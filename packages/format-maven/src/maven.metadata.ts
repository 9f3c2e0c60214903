import { createHash } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import {
  childElement,
  childElements,
  childText,
  ownedBytes,
  type Package,
  type PackageFile,
  type PackageScope,
  PackageService,
  readXml,
  type RenderedDocument,
  renderedDocument,
  RenderedDocuments,
  scopeKey,
  writeXml,
  type XmlElement,
  type XmlNode,
} from '@stowage/core';

import { isSnapshot, MAVEN, METADATA_FILE, parseSnapshotFile, type SnapshotFile, splitName } from './maven.naming';

/** A maven-metadata.xml rendered from rows, with the digests its checksum files answer. */
export interface RenderedMetadata extends RenderedDocument {
  kind: 'rendered';
  md5: string;
  sha1: string;
  sha256: string;
  sha512: string;
  lastModified: Date;
}

/** What a metadata request is answered with: a rendered document, or a file a client stored (plugin-group metadata). */
export type MetadataDocument = RenderedMetadata | { kind: 'stored'; file: PackageFile };

/** `yyyyMMddHHmmss` in UTC, Maven's lastUpdated. */
export function lastUpdated(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A maven-metadata.xml's bytes as served, with the digests its checksum files answer. */
export function renderedMetadata(xml: string | Buffer, lastModified: Date): RenderedMetadata {
  const body = ownedBytes(xml);
  const digest = (alg: string) => createHash(alg).update(body).digest('hex');
  const sha256 = digest('sha256');
  return {
    ...renderedDocument(body, `"${sha256}"`),
    kind: 'rendered',
    md5: digest('md5'),
    sha1: digest('sha1'),
    sha256,
    sha512: digest('sha512'),
    lastModified,
  };
}

/** Artifact level: every version in creation order; `latest` the newest, `release` the newest non-SNAPSHOT. */
export function renderArtifactMetadata(name: string, versions: Pick<Package, 'version' | 'created_at' | 'updated_at'>[]): RenderedMetadata {
  const { groupId, artifactId } = splitName(name);
  const list: string[] = [];
  const seen = new Set<string>();
  let changed = new Date(0);
  for (const v of versions) {
    if (v.updated_at > changed) changed = v.updated_at;
    if (seen.has(v.version)) continue;
    seen.add(v.version);
    list.push(v.version);
  }
  const release = [...list].reverse().find((v) => !isSnapshot(v));
  const versioning: XmlNode[] = [['latest', list[list.length - 1]]];
  if (release) versioning.push(['release', release]);
  versioning.push(['versions', list.map((v): XmlNode => ['version', v])], ['lastUpdated', lastUpdated(changed)]);
  const xml = writeXml([
    'metadata',
    [
      ['groupId', groupId],
      ['artifactId', artifactId],
      ['versioning', versioning],
    ],
  ]);
  return renderedMetadata(xml, changed);
}

/**
 * Version level of a SNAPSHOT, from its timestamped files: the newest build, and for each
 * classifier and extension the newest file's value. Undefined when no file is timestamped.
 */
export function renderSnapshotMetadata(
  name: string,
  version: string,
  files: Pick<PackageFile, 'file_name'>[],
): RenderedMetadata | undefined {
  const { groupId, artifactId } = splitName(name);
  const newer = (a: SnapshotFile, b: SnapshotFile) =>
    a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.buildNumber > b.buildNumber);
  let latest: SnapshotFile | undefined;
  const byKind = new Map<string, SnapshotFile>();
  for (const f of files) {
    const s = parseSnapshotFile(artifactId, version, f.file_name);
    if (!s) continue;
    if (!latest || newer(s, latest)) latest = s;
    const key = `${s.classifier ?? ''}\u0000${s.extension}`;
    const prev = byKind.get(key);
    if (!prev || newer(s, prev)) byKind.set(key, s);
  }
  if (!latest) return undefined;
  const stamp = (s: SnapshotFile) => s.timestamp.replace('.', '');
  const snapshotVersions = [...byKind.values()].map((s): XmlNode => [
    'snapshotVersion',
    [
      ...(s.classifier ? [['classifier', s.classifier] as XmlNode] : []),
      ['extension', s.extension],
      ['value', s.value],
      ['updated', stamp(s)],
    ],
  ]);
  const xml = writeXml([
    'metadata',
    [
      ['groupId', groupId],
      ['artifactId', artifactId],
      ['version', version],
      [
        'versioning',
        [
          [
            'snapshot',
            [
              ['timestamp', latest.timestamp],
              ['buildNumber', String(latest.buildNumber)],
            ],
          ],
          ['lastUpdated', stamp(latest)],
          ['snapshotVersions', snapshotVersions],
        ],
      ],
    ],
    { modelVersion: '1.1.0' },
  ]);
  const t = latest.timestamp;
  return renderedMetadata(
    xml,
    new Date(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`),
  );
}

/** Which document an uploaded maven-metadata.xml is; kept in its file row's metadata. */
export type MetadataLevel = 'group' | 'artifact' | 'version';

/** What an uploaded maven-metadata.xml says about itself (see readUploadedMetadata). */
export interface UploadedMetadata {
  groupId?: string;
  artifactId?: string;
  version?: string;
  versions: string[];
  plugins: number;
}

/** Reads a client's maven-metadata.xml; throws (XmlError or Error) when it is not one. */
export async function readUploadedMetadata(xml: string): Promise<UploadedMetadata> {
  const root = await readXml(xml);
  if (root.name !== 'metadata') throw new Error(`root element is <${root.name}>, expected <metadata>`);
  const versioning = childElement(root, 'versioning');
  return {
    groupId: childText(root, 'groupId'),
    artifactId: childText(root, 'artifactId'),
    version: childText(root, 'version'),
    versions: childElements(childElement(versioning, 'versions'), 'version').map((v) => v.text.trim()),
    plugins: childElements(childElement(root, 'plugins'), 'plugin').length,
  };
}

/** A POM's own coordinates, falling back to its parent's groupId and version as Maven does. */
export async function readPomCoordinates(xml: string): Promise<{ groupId?: string; artifactId?: string; version?: string }> {
  const root: XmlElement = await readXml(xml);
  if (root.localName !== 'project') throw new Error(`root element is <${root.name}>, expected <project>`);
  const parent = childElement(root, 'parent');
  return {
    groupId: childText(root, 'groupId') ?? childText(parent, 'groupId'),
    artifactId: childText(root, 'artifactId'),
    version: childText(root, 'version') ?? childText(parent, 'version'),
  };
}

/**
 * Renders maven-metadata.xml from package rows (one query for the versions, one for a
 * SNAPSHOT's files) and keeps the bytes in core's RenderedDocuments under the scope's
 * revision stamp they were rendered at, so a hot read costs the one indexed revision lookup
 * and no process ever serves a stale document.
 */
@Injectable()
export class MavenMetadata {
  constructor(
    private readonly packages: PackageService,
    private readonly documents: RenderedDocuments,
  ) {}

  /** The document for `<name>/maven-metadata.xml` (version '') or `<name>/<X-SNAPSHOT>/maven-metadata.xml`; null when there is none. */
  async document(scope: PackageScope, name: string, version: string): Promise<MetadataDocument | null> {
    const revision = await this.revision(scope, name);
    if (revision === null) return null;
    const key = `${MAVEN}\u0000${revision.sources}\u0000${name}\u0000${version}`;
    // Only rendered documents are cached; a stored one (uploaded by a client) is looked up when none renders.
    const doc = await this.documents.get(key, revision.stamp, () =>
      version === '' ? this.artifactLevel(scope, name) : this.versionLevel(scope, name, version),
    );
    return doc ?? (version === '' ? this.storedArtifactLevel(scope, name) : this.storedVersionLevel(scope, name, version));
  }

  /**
   * Where the name's document comes from in the scope (`sources`: one cached document per set
   * of projects, so callers who may read different projects get different documents) and a
   * stamp that moves whenever anything of the name changes there; null when the name is unknown.
   */
  private async revision(scope: PackageScope, name: string): Promise<{ sources: string; stamp: string } | null> {
    const projects = await this.packages.scopeProjects(scope, MAVEN, name);
    if (!projects.length) return null;
    return {
      sources: `${scopeKey(scope)}:${projects.map((p) => p.projectId).join(',')}`,
      stamp: projects.map((p) => `${p.projectId}.${p.revision}`).join(','),
    };
  }

  private async artifactLevel(scope: PackageScope, name: string): Promise<RenderedMetadata | null> {
    const versions = (await this.packages.scopeVersions(scope, MAVEN, name)).filter((p) => p.version !== '');
    return versions.length ? renderArtifactMetadata(name, versions) : null;
  }

  // No versions left: only plugin-group metadata (a list of plugins, no versions) is served
  // as stored; an artifact's own stored copy would list what is gone.
  private async storedArtifactLevel(scope: PackageScope, name: string): Promise<MetadataDocument | null> {
    const rows = await this.packages.scopeVersions(scope, MAVEN, name);
    if (rows.some((p) => p.version !== '')) return null;
    const stored = await this.stored(rows.filter((p) => p.version === '').pop());
    return stored?.kind === 'stored' && stored.file.metadata?.level === 'group' ? stored : null;
  }

  private async versionLevel(scope: PackageScope, name: string, version: string): Promise<RenderedMetadata | null> {
    const pkg = await this.packages.scopePackage(scope, MAVEN, name, version);
    if (!pkg) return null;
    return renderSnapshotMetadata(name, version, await this.packages.listFiles([pkg.id])) ?? null;
  }

  private async storedVersionLevel(scope: PackageScope, name: string, version: string): Promise<MetadataDocument | null> {
    return this.stored(await this.packages.scopePackage(scope, MAVEN, name, version));
  }

  private async stored(pkg: Package | null | undefined): Promise<MetadataDocument | null> {
    if (!pkg) return null;
    const file = await this.packages.findFile(pkg.id, METADATA_FILE);
    return file ? { kind: 'stored', file } : null;
  }
}
