import { Inject, Injectable } from '@nestjs/common';
import {
  fileSizeLimit,
  FileStorage,
  type FormatModuleOptions,
  readXml,
  RemoteDocuments,
  RemoteFiles,
  RenderedDocuments,
  sendRendered,
  STALE_WARNING,
  type Upstream,
  UpstreamError,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { MavenFormatConfig } from './maven.config';
import { renderedMetadata } from './maven.metadata';
import { MAVEN_OPTIONS } from './maven.module-definition';
import {
  type ChecksumKind,
  isSnapshot,
  MAVEN,
  type MavenFileTarget,
  type MavenMetadataTarget,
  mavenPath,
  type MavenTarget,
  parseSnapshotFile,
} from './maven.naming';
import { readChecksum, sendChecksum } from './maven.responses';

/** A checksum file is a line (`<hex>` or `<hex>  <file name>`): more is not one, and is never held in memory or stored. */
const MAX_CHECKSUM_FILE = 64 * 1024;

/**
 * Refuses an upstream's maven-metadata.xml that Maven could not read as one (an HTML login page
 * answered with a 200, a DOCTYPE), so it never replaces the last good copy. Read leniently, as
 * Maven's own parser does, so real repositories' untidy metadata still passes.
 */
async function checkMetadata(body: Buffer): Promise<void> {
  const root = await readXml(body.toString('utf8'), { lenient: true }).catch((err: Error) => {
    throw new UpstreamError('invalid', `maven-metadata.xml is not XML Maven can read (${err.message})`);
  });
  if (root.localName !== 'metadata')
    throw new UpstreamError('invalid', `maven-metadata.xml has <${root.name}> at its root, not <metadata>`);
}

/**
 * Answers paths of names nobody in scope holds from the upstream repository (mode `cache`):
 * files fetched once and verified against the upstream's `.sha1`, checksum files from the
 * cached blob's digests (else the upstream's own), and maven-metadata.xml kept as a remote
 * document (TTL, revalidation, stale with a warning) with checksums of the bytes served.
 * In mode `redirect`, every path is a 302 to the same path at the upstream (GitLab).
 */
@Injectable()
export class MavenRemote {
  constructor(
    private readonly documents: RemoteDocuments,
    private readonly files: RemoteFiles,
    private readonly storage: FileStorage,
    private readonly rendered: RenderedDocuments,
    @Inject(MAVEN_OPTIONS) private readonly options: FormatModuleOptions<MavenFormatConfig>,
  ) {}

  /** `notFound` answers what the upstream does not have, as a local miss is answered. */
  serve(
    upstream: Upstream,
    target: MavenTarget,
    request: FastifyRequest,
    reply: FastifyReply,
    notFound: () => Error,
  ): Promise<FastifyReply> {
    if (!upstream.caches) throw upstream.redirect(mavenPath(target));
    if (target.kind === 'metadata') return this.metadata(upstream, target, request, reply, notFound);
    // A SNAPSHOT's plain `-SNAPSHOT` file names change content with every deploy, so they cannot be
    // cached by address; Maven 3 resolves SNAPSHOTs to timestamped files, which never change.
    if (isSnapshot(target.version) && !parseSnapshotFile(target.artifactId, target.version, target.fileName)) throw notFound();
    const url = upstream.http.url(mavenPath({ ...target, checksum: undefined }));
    if (target.checksum) return this.checksum(upstream, target, target.checksum, url, reply, notFound);
    return this.file(upstream, target, url, request, reply, notFound);
  }

  private async file(
    upstream: Upstream,
    target: MavenFileTarget,
    url: string,
    request: FastifyRequest,
    reply: FastifyReply,
    notFound: () => Error,
  ): Promise<FastifyReply> {
    const hit = await this.files.cached(MAVEN, url);
    if (hit) {
      const blob = await this.storage.blob(hit.file_sha256);
      return this.storage.send(request, reply, hit, blob ? { headers: { 'x-checksum-sha1': blob.sha1, 'x-checksum-md5': blob.md5 } } : {});
    }
    // Central publishes a .sha1 beside every file: without one the file cannot be verified, so it
    // is not served, and its 404 (kept for metadata_ttl) answers Maven's many probes of absent paths.
    const declared = await this.upstreamChecksum(upstream, target, url, 'sha1', notFound);
    const absent = (err: unknown) => {
      throw err instanceof UpstreamError && (err.upstreamStatus === 404 || err.upstreamStatus === 410) ? notFound() : err;
    };
    return this.files
      .send(
        request,
        reply,
        {
          upstream,
          url,
          digest: { algorithm: 'sha1', hex: declared.hex },
          name: target.name,
          version: target.version,
          fileName: target.fileName,
          maxSize: fileSizeLimit(this.options.config),
        },
        { headers: { 'x-checksum-sha1': declared.hex } },
      )
      .catch(absent);
  }

  /** A checksum of a file: the digest of the bytes Stowage serves once it holds them, else the upstream's checksum file. */
  private async checksum(
    upstream: Upstream,
    target: MavenFileTarget,
    kind: ChecksumKind,
    url: string,
    reply: FastifyReply,
    notFound: () => Error,
  ): Promise<FastifyReply> {
    const hit = await this.files.cached(MAVEN, url);
    const blob = hit && (await this.storage.blob(hit.file_sha256));
    if (blob) return sendChecksum(reply, blob[kind]);
    const declared = await this.upstreamChecksum(upstream, target, url, kind, notFound);
    if (declared.stale) reply.headers(STALE_WARNING);
    return sendChecksum(reply, declared.hex);
  }

  private async upstreamChecksum(
    upstream: Upstream,
    target: MavenFileTarget,
    url: string,
    kind: ChecksumKind,
    notFound: () => Error,
  ): Promise<{ hex: string; stale: boolean }> {
    const invalid = () => new UpstreamError('invalid', `${target.fileName}.${kind} is not a ${kind} checksum`);
    const doc = await this.documents.get(upstream, `${url}.${kind}`, {
      name: target.name,
      maxSize: MAX_CHECKSUM_FILE,
      check: (body) => {
        if (!readChecksum(body, kind)) throw invalid();
      },
    });
    if (!doc.found) throw notFound();
    const hex = readChecksum(await doc.body(), kind);
    if (!hex) throw invalid();
    return { hex, stale: doc.stale };
  }

  private async metadata(
    upstream: Upstream,
    target: MavenMetadataTarget,
    request: FastifyRequest,
    reply: FastifyReply,
    notFound: () => Error,
  ): Promise<FastifyReply> {
    const url = upstream.http.url(mavenPath({ ...target, checksum: undefined }));
    const doc = await this.documents.get(upstream, url, { name: target.name, check: checkMetadata });
    if (!doc.found) throw notFound();
    // Served as the upstream wrote it (it holds no URLs), so one entry per upstream document serves every scope.
    const served = await this.rendered.get(`${MAVEN}\u0000remote\u0000${url}`, `${doc.id}.${doc.revision}`, async () =>
      renderedMetadata(await doc.body(), doc.fetchedAt),
    );
    if (doc.stale) reply.headers(STALE_WARNING);
    if (target.checksum) return sendChecksum(reply, served[target.checksum]);
    return sendRendered(request, reply, served, {
      contentType: 'application/xml',
      lastModified: served.lastModified,
      headers: { 'x-checksum-sha1': served.sha1, 'x-checksum-md5': served.md5 },
    });
  }
}
