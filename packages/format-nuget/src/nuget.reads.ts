import { Readable } from 'node:stream';

import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  contentDisposition,
  etagMatches,
  externalBaseUrl,
  FileStorage,
  type FormatModuleOptions,
  httpErrors,
  type PackageFile,
  type PackageScope,
  PackageService,
  StowageConfig,
  type ZipEntry,
  ZipError,
  ZipReader,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { NugetFormatConfig } from './nuget.config';
import { NugetMetadata, sendJson } from './nuget.metadata';
import { NUGET_OPTIONS } from './nuget.module-definition';
import { isValidName, normalizeName, normalizeVersion, NUGET, packageFileName, validVersion } from './nuget.naming';
import { leaf, rendered } from './nuget.render';
import { NugetSearch, type SearchQuery } from './nuget.search';
import { MAX_PDB, type SymbolFile } from './nuget.symbols';
import { MAX_NUSPEC } from './nuget.upload';
import { scopeUrls } from './nuget.urls';

/** `x` or `x.json` → `x`; null for any other suffix on an `index`. */
const withoutJson = (s: string) => (s.endsWith('.json') ? s.slice(0, -5) : s);

const SHA256_CHECKSUM = /SHA256:([a-f0-9]{64})/gi;

const logger = new Logger('nuget');

/**
 * The reads of the v3 feed in a project or group scope: registration, flat container,
 * search and the symbol server. Controllers resolve the scope and call these.
 */
@Injectable()
export class NugetReads {
  constructor(
    private readonly documents: NugetMetadata,
    private readonly search: NugetSearch,
    private readonly packages: PackageService,
    private readonly storage: FileStorage,
    @Inject(StowageConfig) private readonly config: StowageConfig,
    @Inject(NUGET_OPTIONS) private readonly options: FormatModuleOptions<NugetFormatConfig>,
  ) {}

  /** The registration routes: `<id>/index.json`, `<id>/page/<lower>/<upper>.json` and `<id>/<version>.json`. */
  async registration(scope: PackageScope, path: string, request: FastifyRequest, reply: FastifyReply) {
    const urls = scopeUrls(externalBaseUrl(this.config), scope);
    const parts = path.split('/');
    const name = parts[0];
    if (!isValidName(name)) throw httpErrors.notFound();
    if (parts.length === 2 && (parts[1] === 'index' || parts[1] === 'index.json')) {
      const doc = await this.documents.document(scope, urls, name, { kind: 'registration' });
      if (!doc) throw httpErrors.notFound('Package');
      return sendJson(request, reply, doc);
    }
    if (parts.length === 4 && parts[1] === 'page') {
      const doc = await this.documents.document(scope, urls, name, { kind: 'page', lower: parts[2], upper: withoutJson(parts[3]) });
      if (!doc) throw httpErrors.notFound('Page');
      return sendJson(request, reply, doc);
    }
    if (parts.length === 2) {
      const version = normalizeVersion(validVersion(withoutJson(parts[1])));
      const { entry } = await this.documents.versions(scope, name);
      const pkg = entry?.sorted.find((p) => p.normalized_version === version);
      if (!pkg) throw httpErrors.notFound('Package');
      return sendJson(request, reply, rendered(leaf(urls, pkg)));
    }
    throw httpErrors.notFound();
  }

  /** The v3 search (`query`); `scope` is resolved for a listing. */
  query(scope: PackageScope, query: SearchQuery) {
    return this.search.search(scope, scopeUrls(externalBaseUrl(this.config), scope), query);
  }

  /** The flat container: `<id>/index.json` and `<id>/<version>/<id>.<version>.nupkg|snupkg`. */
  async download(scope: PackageScope, path: string, request: FastifyRequest, reply: FastifyReply) {
    const parts = path.split('/');
    const name = parts[0];
    if (!isValidName(name)) throw httpErrors.notFound();
    if (parts.length === 2 && (parts[1] === 'index' || parts[1] === 'index.json')) {
      const doc = await this.documents.document(scope, scopeUrls('', scope), name, { kind: 'versions' });
      if (!doc) throw httpErrors.notFound('Package');
      return sendJson(request, reply, doc);
    }
    if (parts.length !== 3) throw httpErrors.notFound();
    const version = validVersion(parts[1]);
    const requested = parts[2].toLowerCase();
    const nuspec = requested === `${normalizeName(name)}.nuspec`;
    const symbols = requested.endsWith('.snupkg');
    if (!nuspec && !symbols && !requested.endsWith('.nupkg')) throw httpErrors.notFound();
    const pkg = await this.packages.scopePackage(scope, NUGET, name, version);
    if (!pkg) throw httpErrors.notFound('Package');
    const fileName = packageFileName(pkg.name, pkg.version, symbols);
    const file = await this.packages.findFile(pkg.id, fileName);
    if (!file) throw httpErrors.notFound('Package file');
    if (nuspec) return this.sendNuspec(request, reply, file);
    this.packages.markDownloaded(pkg, request);
    // NuGet clients do not follow redirects (GitLab turns direct downloads off for NuGet).
    return this.storage.send(request, reply, file, { fileName, redirect: false });
  }

  /** The flat container's `<id>.nuspec`: the manifest read from the stored .nupkg through its central directory. */
  private async sendNuspec(request: FastifyRequest, reply: FastifyReply, file: PackageFile) {
    const etag = `"${file.file_sha256}-nuspec"`;
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).header('etag', etag).send();
    const isNuspec = (e: ZipEntry) => !e.isDirectory && !e.name.includes('/') && e.name.toLowerCase().endsWith('.nuspec');
    const bytes = await this.storedEntry(file, isNuspec, MAX_NUSPEC);
    if (!bytes) throw httpErrors.notFound('nuspec');
    reply.header('content-type', 'application/xml; charset=utf-8').header('etag', etag).header('content-length', bytes.length);
    return reply.send(request.method === 'HEAD' ? Readable.from([]) : bytes);
  }

  /**
   * The symbol server: `<file.pdb>/<signature>/<file.pdb>` with `Symbolchecksum: SHA256:<hex>`
   * (several may be listed), answered with the PDB's bytes read from the .snupkg that indexed it
   * (https://github.com/dotnet/symstore/blob/main/docs/specs/SSQP_Key_Conventions.md). Missing
   * header 400; unknown file, signature or checksum 404.
   */
  async symbolFile(scope: PackageScope, path: string, request: FastifyRequest, reply: FastifyReply) {
    if (!this.options.config.symbol_server_enabled) throw httpErrors.forbidden('Symbol server is disabled');
    const header = request.headers['symbolchecksum'];
    if (header === undefined) throw httpErrors.badRequest('Missing checksum header');
    const parts = path.split('/');
    if (parts.length !== 3 || !parts[0] || parts[0].toLowerCase() !== parts[2].toLowerCase()) throw httpErrors.notFound();
    const fileName = parts[0].toLowerCase();
    const signature = parts[1].toLowerCase();
    const checksums = [...(Array.isArray(header) ? header.join(',') : header).matchAll(SHA256_CHECKSUM)].map((m) => m[1].toLowerCase());
    for (const checksum of checksums) {
      const found = await this.packages.findFileByMetadata(scope, NUGET, { pdbs: [{ fileName, signature, checksum }] });
      if (!found) continue;
      const pdb = ((found.file.metadata.pdbs ?? []) as SymbolFile[]).find(
        (f) => f.fileName === fileName && f.signature === signature && f.checksum === checksum,
      );
      if (!pdb) continue;
      const bytes = await this.storedEntry(found.file, (e) => e.name === pdb.path, MAX_PDB);
      if (!bytes) continue;
      this.packages.markDownloaded(found.pkg, request);
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', contentDisposition(parts[0]))
        .header('content-length', bytes.length);
      return reply.send(request.method === 'HEAD' ? Readable.from([]) : bytes);
    }
    throw httpErrors.notFound('Symbol file');
  }

  /**
   * The bytes of the entry `pick` chooses in a stored package, or null when there is none or the
   * stored archive cannot be read (corrupt, or stored before the zip reader refused overlapping
   * entries): the client then hears the file is not there, as for a package without it, rather
   * than a 500, and the log names the stored file for the operator.
   */
  private async storedEntry(file: PackageFile, pick: (e: ZipEntry) => boolean, maxSize: number): Promise<Buffer | null> {
    try {
      const zip = await ZipReader.open({ size: file.size, read: (range) => this.storage.open(file.file_sha256, range) });
      const entry = zip.entries.find(pick);
      return entry ? await zip.readEntry(entry, { maxSize }) : null;
    } catch (err) {
      if (!(err instanceof ZipError)) throw err;
      logger.warn(`stored package file ${file.id} (${file.file_name}, sha256 ${file.file_sha256}) cannot be read: ${err.message}`);
      return null;
    }
  }
}
