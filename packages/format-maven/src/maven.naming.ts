import { httpErrors } from '@stowage/core';

// Maven's repository layout (https://maven.apache.org/repository/layout.html):
// `<group/path>/<artifactId>/<version>/<file>`, with `maven-metadata.xml` at the artifact level
// (versions), the SNAPSHOT version level (timestamped builds) and the group level (plugins).

export const MAVEN = 'maven';

export const CHECKSUMS = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type ChecksumKind = (typeof CHECKSUMS)[number];
export const METADATA_FILE = 'maven-metadata.xml';

/** A file under a version directory (jar, pom, module, asc…), or its checksum. */
export interface MavenFileTarget {
  kind: 'file';
  /** The package name: group path + artifactId, e.g. `com/acme/app`. */
  name: string;
  groupId: string;
  artifactId: string;
  version: string;
  /** The stored file (without the checksum suffix). */
  fileName: string;
  checksum?: ChecksumKind;
}

/**
 * A maven-metadata.xml (or its checksum): artifact level (`version` ''), group level for
 * plugins (also `version` '', named by the group path), or SNAPSHOT version level.
 */
export interface MavenMetadataTarget {
  kind: 'metadata';
  name: string;
  version: string;
  fileName: typeof METADATA_FILE;
  checksum?: ChecksumKind;
}

export type MavenTarget = MavenFileTarget | MavenMetadataTarget;

const SEGMENT = /^[\w.+-]+$/;
const GROUP_SEGMENT = /^[\w.-]+$/;
const ARTIFACT_ID = /^[\w.-]+$/;
const VERSION = /^(?!.*\.\.)[\w+.-]+$/;
const FILE_NAME = /^[A-Za-z0-9._+-]+$/;
const MAX_SEGMENT = 255;
const MAX_PATH = 1024;

export const isSnapshot = (version: string) => version.endsWith('-SNAPSHOT');

const invalidPath = () => httpErrors.invalidParam('path', 'should be a valid file path');

/**
 * Parses the wildcard part of a Maven URL. The router has percent-decoded it already, so an
 * encoded `%2e%2e%2f` arrives as `../` and is refused like the literal one.
 */
export function mavenTarget(rawPath: string | undefined): MavenTarget {
  const path = rawPath ?? '';
  if (!path || path.length > MAX_PATH || /[\\\0\r\n]/.test(path)) throw invalidPath();
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.length > MAX_SEGMENT || !SEGMENT.test(s))) throw invalidPath();
  let fileName = segments.pop()!;
  if (!FILE_NAME.test(fileName)) throw httpErrors.invalidParam('file_name');
  let checksum: ChecksumKind | undefined;
  const dot = fileName.lastIndexOf('.');
  const suffix = fileName.slice(dot + 1) as ChecksumKind;
  if (dot > 0 && CHECKSUMS.includes(suffix)) {
    checksum = suffix;
    fileName = fileName.slice(0, dot);
  }
  if (!segments.length) throw invalidPath();

  if (fileName === METADATA_FILE) {
    const last = segments[segments.length - 1];
    if (isSnapshot(last) && segments.length >= 3) {
      const { name } = coordinates(segments.slice(0, -1));
      return { kind: 'metadata', name, version: validVersion(last), fileName: METADATA_FILE, checksum };
    }
    if (!segments.every((s) => GROUP_SEGMENT.test(s))) throw httpErrors.invalidParam('path', 'is invalid: bad groupId or artifactId');
    return { kind: 'metadata', name: segments.join('/'), version: '', fileName: METADATA_FILE, checksum };
  }

  if (segments.length < 3) throw httpErrors.invalidParam('path', 'is invalid: expected <groupId path>/<artifactId>/<version>/<file>');
  const version = validVersion(segments.pop()!);
  const { name, groupId, artifactId } = coordinates(segments);
  return { kind: 'file', name, groupId, artifactId, version, fileName, checksum };
}

function validVersion(version: string): string {
  if (!VERSION.test(version)) throw httpErrors.badRequest('Validation failed: Version is invalid');
  return version;
}

function coordinates(segments: string[]): { name: string; groupId: string; artifactId: string } {
  const artifactId = segments[segments.length - 1];
  const group = segments.slice(0, -1);
  if (!group.length || !group.every((s) => GROUP_SEGMENT.test(s))) throw httpErrors.invalidParam('path', 'is invalid: bad groupId');
  if (!ARTIFACT_ID.test(artifactId)) throw httpErrors.invalidParam('path', 'is invalid: bad artifactId');
  return { name: segments.join('/'), groupId: group.join('.'), artifactId };
}

/** The layout path of a target, as mavenTarget read it (`<name>[/<version>]/<file>[.<checksum>]`). */
export function mavenPath(t: MavenTarget): string {
  const dir = t.version ? `${t.name}/${t.version}` : t.name;
  return `${dir}/${t.fileName}${t.checksum ? `.${t.checksum}` : ''}`;
}

/** groupId and artifactId of an artifact-level name (`com/acme/app` → `com.acme`, `app`). */
export function splitName(name: string): { groupId: string; artifactId: string } {
  const i = name.lastIndexOf('/');
  return { groupId: name.slice(0, i).replace(/\//g, '.'), artifactId: name.slice(i + 1) };
}

/**
 * Whether an upload's file name belongs to its directory: `<artifactId>-<version>…`, where a
 * SNAPSHOT file may carry a timestamp in place of `SNAPSHOT`.
 */
export function fileMatchesCoordinates(t: MavenFileTarget): boolean {
  const base = isSnapshot(t.version) ? t.version.slice(0, -'-SNAPSHOT'.length) : t.version;
  const rest = t.fileName.startsWith(`${t.artifactId}-${base}`) ? t.fileName.slice(t.artifactId.length + 1 + base.length) : undefined;
  return rest !== undefined && /^[-.]/.test(rest);
}

export interface SnapshotFile {
  /** `1.0-20200128.120857-3` */
  value: string;
  timestamp: string;
  buildNumber: number;
  classifier?: string;
  extension: string;
}

/** Reads a timestamped SNAPSHOT file name; undefined for other files of the directory. */
export function parseSnapshotFile(artifactId: string, version: string, fileName: string): SnapshotFile | undefined {
  const base = version.slice(0, -'-SNAPSHOT'.length);
  const prefix = `${artifactId}-${base}-`;
  if (!fileName.startsWith(prefix)) return undefined;
  const m = /^(\d{8}\.\d{6})-(\d+)(?:-([\w.+-]+?))?\.([A-Za-z0-9][\w.]*)$/.exec(fileName.slice(prefix.length));
  if (!m) return undefined;
  return { value: `${base}-${m[1]}-${m[2]}`, timestamp: m[1], buildNumber: Number(m[2]), classifier: m[3], extension: m[4] };
}
