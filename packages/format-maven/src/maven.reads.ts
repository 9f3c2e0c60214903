import { Injectable } from '@nestjs/common';
import {
  FileStorage,
  httpErrors,
  type PackageFile,
  type PackageScope,
  PackageService,
  requestContext,
  scopeMiss,
  sendRendered,
  Upstreams,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { MavenMetadata, type RenderedMetadata } from './maven.metadata';
import { type ChecksumKind, MAVEN, type MavenTarget } from './maven.naming';
import { MavenRemote } from './maven.remote';
import { sendChecksum } from './maven.responses';

const FILE_DIGEST: Record<ChecksumKind, keyof PackageFile> = {
  md5: 'file_md5',
  sha1: 'file_sha1',
  sha256: 'file_sha256',
  sha512: 'file_sha512',
};

/**
 * Answers GET/HEAD for any path of the repository layout in a scope: files with their
 * Maven Resolver checksum headers, checksum files from the stored digests, and
 * maven-metadata.xml rendered from rows. A miss is answered after one indexed lookup, or,
 * when nobody in scope holds the name and forwarding is on, from the upstream (path by path:
 * a name held locally never goes there, even for a version or file it lacks).
 */
@Injectable()
export class MavenReads {
  constructor(
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    private readonly metadata: MavenMetadata,
    private readonly upstreams: Upstreams,
    private readonly remote: MavenRemote,
  ) {}

  async serve(scope: PackageScope, target: MavenTarget, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const miss = () => scopeMiss(scope, requestContext(request).auth.principal, () => httpErrors.notFound('Package'));
    const upstream = async () => {
      const to = await this.upstreams.forName(scope, MAVEN, target.name);
      if (!to || (await this.versionOfHeldName(scope, target))) throw miss();
      return this.remote.serve(to, target, request, reply, miss);
    };
    if (target.kind === 'metadata') {
      const doc = await this.metadata.document(scope, target.name, target.version);
      if (!doc) return upstream();
      if (doc.kind === 'rendered') return this.sendMetadata(request, reply, doc, target.checksum);
      return this.sendFile(request, reply, doc.file, target.checksum);
    }
    const found = await this.packages.scopePackageFile(
      scope,
      { packageType: MAVEN, name: target.name, version: target.version },
      target.fileName,
    );
    if (found?.file) {
      if (!target.checksum) this.packages.markDownloaded(found.pkg, request);
      return this.sendFile(request, reply, found.file, target.checksum);
    }
    // A name this repository never held goes to the forwarding decision: upstream, or the miss.
    if (!(await this.packages.scopeProjects(scope, MAVEN, target.name)).length) return upstream();
    throw miss();
  }

  /**
   * `g/a/1.0/maven-metadata.xml` parses as the artifact-level document of `g/a/1.0`, but is also
   * the version-level one of `g/a`: a name held in scope must not reach the upstream that way.
   */
  private async versionOfHeldName(scope: PackageScope, target: MavenTarget): Promise<boolean> {
    if (target.kind !== 'metadata' || target.version !== '') return false;
    const parent = target.name.slice(0, Math.max(0, target.name.lastIndexOf('/')));
    return parent.includes('/') && this.packages.nameHeld(scope, MAVEN, parent);
  }

  private sendFile(
    request: FastifyRequest,
    reply: FastifyReply,
    file: PackageFile,
    checksum?: ChecksumKind,
  ): Promise<FastifyReply> | FastifyReply {
    if (checksum) return sendChecksum(reply, String(file[FILE_DIGEST[checksum]]));
    return this.storage.send(request, reply, file, { headers: { 'x-checksum-sha1': file.file_sha1, 'x-checksum-md5': file.file_md5 } });
  }

  private sendMetadata(
    request: FastifyRequest,
    reply: FastifyReply,
    doc: RenderedMetadata,
    checksum?: ChecksumKind,
  ): Promise<FastifyReply> | FastifyReply {
    if (checksum) return sendChecksum(reply, doc[checksum]);
    return sendRendered(request, reply, doc, {
      contentType: 'application/xml',
      lastModified: doc.lastModified,
      headers: { 'x-checksum-sha1': doc.sha1, 'x-checksum-md5': doc.md5 },
    });
  }
}
