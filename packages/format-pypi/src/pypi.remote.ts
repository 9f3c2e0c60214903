import { Inject, Injectable } from '@nestjs/common';
import {
  fileSizeLimit,
  type FormatModuleOptions,
  type PackageScope,
  type RemoteDocument,
  RemoteDocuments,
  RemoteFiles,
  type RenderedDocument,
  renderedDocument,
  RenderedDocuments,
  scopeKey,
  type Upstream,
  UpstreamError,
  Upstreams,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { PypiFormatConfig } from './pypi.config';
import { PypiMetadata } from './pypi.metadata';
import { PYPI_OPTIONS } from './pypi.module-definition';
import { isValidProjectName, METADATA_SUFFIX, normalizePypiName, PYPI } from './pypi.naming';
import { parseUpstreamPage, type UpstreamFile, UpstreamPageError } from './pypi.remote-page';
import { type IndexFile, JSON_TYPE, renderProjectPage, type SimpleFormat } from './pypi.render';
import { packageNotFound } from './pypi.responses';

/** JSON first (PEP 691), HTML from an index that has only that (a static PEP 503 tree answers text/html). */
const UPSTREAM_ACCEPT = `${JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1`;
const SHA256 = /^[0-9a-f]{64}$/;

export interface RemotePage {
  doc: RenderedDocument;
  /** The upstream failed and this is its last page: answer with STALE_WARNING. */
  stale: boolean;
}

export interface RemoteFileParams {
  /** The normalized project name. */
  name: string;
  sha256: string;
  /** The file name (find-my-way's wildcard). */
  '*': string;
}

/**
 * PyPI's upstream (GitLab's `pypi_package_requests_forwarding`, plus a cache): the project
 * page of a name nobody holds in scope, read from the upstream (JSON or HTML), kept by core's
 * RemoteDocuments and rendered as Stowage's own page whose links lead to Stowage; and the files
 * it names, fetched once through RemoteFiles and verified against the upstream's sha256.
 * Which URL is fetched comes only from the upstream's page, never from the request.
 */
@Injectable()
export class PypiRemote {
  constructor(
    private readonly upstreams: Upstreams,
    private readonly remoteDocuments: RemoteDocuments,
    private readonly remoteFiles: RemoteFiles,
    private readonly rendered: RenderedDocuments,
    private readonly index: PypiMetadata,
    @Inject(PYPI_OPTIONS) private readonly options: FormatModuleOptions<PypiFormatConfig>,
  ) {}

  /**
   * The upstream's page of `name` (normalized) rendered for this scope, or null (404) when it
   * may not go upstream here or the upstream has no such project. Call it only once the local
   * lookup found nothing. In `redirect` mode, throws GitLab's 302 to the upstream page.
   */
  async page(scope: PackageScope, name: string, format: SimpleFormat): Promise<RemotePage | null> {
    const upstream = await this.upstreams.forName(scope, PYPI, name);
    if (!upstream) return null;
    if (!upstream.caches) throw upstream.redirect(`${name}/`);
    const doc = await this.upstreamPage(upstream, name);
    if (!doc.found) return null;
    const files = await this.files(upstream, doc);
    const base = `${this.index.base(scope)}/remote/${name}`;
    const rendered = await this.rendered.get(
      `${PYPI}\u0000remote\u0000${scopeKey(scope)}\u0000${name}\u0000${format}`,
      `${doc.id}.${doc.revision}`,
      async () =>
        renderedDocument(
          renderProjectPage(
            name,
            [...files.values()].map((f) => indexFile(base, f)),
            format,
          ),
        ),
    );
    return { doc: rendered, stale: doc.stale };
  }

  /** `remote/<name>/<sha256>/<file>` (or `<file>.metadata`): a file the upstream's page names with that sha256. */
  async file(scope: PackageScope, params: RemoteFileParams, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { name, sha256 } = params;
    const fileName = params['*'];
    // The name becomes part of the upstream URL: only a valid, normalized one goes there.
    if (!SHA256.test(sha256) || !isValidProjectName(name) || normalizePypiName(name) !== name) throw packageNotFound();
    const upstream = await this.upstreams.forName(scope, PYPI, name);
    if (!upstream?.caches) throw packageNotFound();
    const doc = await this.upstreamPage(upstream, name);
    if (!doc.found) throw packageNotFound();
    const isMetadata = fileName.endsWith(METADATA_SUFFIX);
    const file = (await this.files(upstream, doc)).get(isMetadata ? fileName.slice(0, -METADATA_SUFFIX.length) : fileName);
    if (!file || file.sha256 !== sha256) throw packageNotFound();
    const config = this.options.config;
    const wanted = isMetadata
      ? file.coreMetadataSha256 && {
          url: `${file.url}${METADATA_SUFFIX}`,
          sha256: file.coreMetadataSha256,
          maxSize: config.max_metadata_size,
        }
      : { url: file.url, sha256: file.sha256, maxSize: fileSizeLimit(config) };
    if (!wanted) throw packageNotFound();
    return this.remoteFiles.send(
      request,
      reply,
      {
        upstream,
        url: wanted.url,
        digest: { algorithm: 'sha256', hex: wanted.sha256 },
        name,
        version: file.version || undefined,
        fileName,
        maxSize: wanted.maxSize,
      },
      {
        fileName,
        contentType: isMetadata ? 'text/plain; charset=utf-8' : 'application/octet-stream',
        headers: { 'x-checksum-sha256': wanted.sha256 },
      },
    );
  }

  private upstreamPage(upstream: Upstream, name: string): Promise<RemoteDocument> {
    return this.remoteDocuments.get(upstream, upstream.http.url(`${name}/`), { name, accept: UPSTREAM_ACCEPT });
  }

  /** The files of an upstream page by file name, read once per revision of the page. */
  private files(upstream: Upstream, doc: RemoteDocument): Promise<Map<string, UpstreamFile>> {
    return this.rendered.get(
      `${PYPI}\u0000upstream-files\u0000${doc.id}`,
      `${doc.id}.${doc.revision}`,
      async () => {
        try {
          const files = parseUpstreamPage(await doc.body(), doc.contentType, doc.url, (href, from) => upstream.http.link(href, from));
          return new Map(files.map((f) => [f.filename, f]));
        } catch (err) {
          if (err instanceof UpstreamPageError) throw new UpstreamError('invalid', err.message);
          throw err;
        }
      },
      (files) => {
        let bytes = 0;
        for (const f of files.values()) bytes += 160 + 2 * (f.filename.length + f.url.length + f.requiresPython.length + f.version.length);
        return bytes;
      },
    );
  }
}

function indexFile(base: string, f: UpstreamFile): IndexFile {
  return {
    filename: f.filename,
    url: `${base}/${f.sha256}/${encodeURIComponent(f.filename)}`,
    version: f.version,
    sha256: f.sha256,
    requiresPython: f.requiresPython,
    coreMetadataSha256: f.coreMetadataSha256,
    yanked: f.yanked,
  };
}
