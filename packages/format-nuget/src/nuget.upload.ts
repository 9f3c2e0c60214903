import type { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import {
  FormatUploads,
  HttpError,
  httpErrors,
  multipartBoundary,
  MultipartError,
  type Package,
  parseMultipart,
  type ProjectContext,
  type StoredBlob,
  ZipError,
  ZipReader,
} from '@stowage/core';

import type { NugetFormatConfig } from './nuget.config';
import { NUGET_OPTIONS } from './nuget.module-definition';
import { withLenientClosingDelimiter } from './nuget.multipart';
import { isValidName, isValidVersion, NUGET, packageFileName } from './nuget.naming';
import { type NuspecMetadata, parseNuspec } from './nuget.nuspec';
import { readPdbIds, type SymbolFile } from './nuget.symbols';

/** GitLab reads at most this much of the .nuspec. */
export const MAX_NUSPEC = 4 * 1024 * 1024;

const bad = (detail: string) => httpErrors.badRequest(detail);

export interface NugetPush {
  ctx: ProjectContext;
  /** The Content-Type the client sent. */
  contentType?: string;
  body: Readable;
  length?: number;
  symbols: boolean;
}

/** The metadata kept on the package row: the nuspec minus its id and version. */
export type NugetPackageMetadata = Omit<NuspecMetadata, 'id' | 'version'>;

/**
 * A push: the first file part of the multipart body is stored once while it streams in,
 * then its .nuspec is read from storage through the zip's central directory (never the
 * whole archive), validated, and the package written in one transaction. Any refusal
 * releases the stored bytes, so nothing of a bad push stays.
 */
@Injectable()
export class NugetUploads extends FormatUploads<NugetFormatConfig>(NUGET_OPTIONS) {
  async upload(p: NugetPush): Promise<Package> {
    this.refuseDeclaredLength(p.length, 64 * 1024);
    const blob = await this.receive(p);
    try {
      if (blob.size === 0) throw bad('package file is empty');
      const { nuspec, zip } = await this.inspect(blob, p.symbols);
      // The cheap checks before the PDBs are inflated: a symbol package needs its package.
      const existing = p.symbols ? await this.packages.findPackage(this.refOf(p, nuspec)) : null;
      if (p.symbols && !existing) throw bad('symbol package is invalid, matching package does not exist');
      const pdbs = p.symbols ? await this.symbolFiles(zip) : [];
      return await this.save(p, blob, nuspec, pdbs, existing);
    } catch (err) {
      await this.storage.release(blob).catch(() => undefined);
      throw err;
    }
  }

  /** Stores the package bytes: the first file part of a form, or a raw body. */
  private async receive(p: NugetPush): Promise<StoredBlob> {
    const store = (body: Readable) =>
      this.store(body).catch((err) => {
        throw err instanceof MultipartError ? bad(err.message) : err;
      });
    if (!/^multipart\//i.test(p.contentType ?? '')) return store(p.body);
    let boundary: string;
    try {
      boundary = multipartBoundary(p.contentType);
    } catch (err) {
      throw err instanceof MultipartError ? bad(err.message) : err;
    }
    let blob: StoredBlob | undefined;
    try {
      for await (const part of parseMultipart(withLenientClosingDelimiter(p.body, boundary), p.contentType, { maxFiles: 4 })) {
        if (part.kind === 'file' && !blob) blob = await store(part.stream);
      }
    } catch (err) {
      if (blob) await this.storage.release(blob).catch(() => undefined);
      if (err instanceof MultipartError) throw bad(err.message);
      throw err;
    }
    if (!blob) throw httpErrors.missingParam('package');
    return blob;
  }

  /**
   * Opens the package (core refuses entries that overlap or that a client could not unpack
   * safely) and reads its one .nuspec: NuGet refuses a package with more than one at the root.
   */
  private async inspect(blob: StoredBlob, symbols: boolean): Promise<{ nuspec: NuspecMetadata; zip: ZipReader }> {
    const source = { size: blob.size, read: (range: { start: number; end: number }) => this.storage.open(blob.sha256, range) };
    try {
      const zip = await ZipReader.open(source);
      await zip.checkEntries();
      const nuspecs = zip.entries.filter((e) => !e.isDirectory && !e.name.includes('/') && e.name.toLowerCase().endsWith('.nuspec'));
      if (nuspecs.length > 1) {
        throw bad(`the package holds more than one .nuspec file (${nuspecs.map((e) => JSON.stringify(e.name)).join(', ')})`);
      }
      const entry = nuspecs[0];
      if (!entry) throw bad('nuspec file not found');
      if (entry.uncompressedSize > MAX_NUSPEC) throw bad('nuspec file too big');
      const xml = (await zip.readEntry(entry, { maxSize: MAX_NUSPEC })).toString('utf8');
      const nuspec = await parseNuspec(xml, { symbols });
      if (!isValidName(nuspec.id)) throw bad('Validation failed: Name is invalid');
      if (!isValidVersion(nuspec.version)) throw bad('Validation failed: Version is invalid');
      const isSymbols = nuspec.packageTypes.some((t) => t.toLowerCase() === 'symbolspackage');
      if (symbols !== isSymbols)
        throw bad(
          symbols ? 'not a symbol package (no SymbolsPackage package type)' : 'symbol packages are pushed to the symbol package endpoint',
        );
      return { nuspec, zip };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (err instanceof ZipError)
        throw bad(/too large|larger than/.test(err.message) ? 'nuspec file too big' : `invalid package file: ${err.message}`);
      throw err;
    }
  }

  private refOf(p: NugetPush, nuspec: NuspecMetadata) {
    return { projectId: p.ctx.project.id, packageType: NUGET, name: nuspec.id, version: nuspec.version };
  }

  private async symbolFiles(zip: ZipReader): Promise<SymbolFile[]> {
    try {
      return await readPdbIds(zip);
    } catch (err) {
      throw err instanceof ZipError ? bad(`invalid package file: ${err.message}`) : err;
    }
  }

  /**
   * `existing`: a symbol package's package, read before (outside the transaction: with the
   * embedded database a query beside it would wait for it).
   */
  private async save(
    p: NugetPush,
    blob: StoredBlob,
    nuspec: NuspecMetadata,
    pdbs: SymbolFile[],
    existing: Package | null,
  ): Promise<Package> {
    const { id, version, ...metadata } = nuspec;
    const ref = this.refOf(p, nuspec);
    const fileName = packageFileName(id, version, p.symbols);
    // A symbol package adds to a package: no duplicate check, but the name's protection holds.
    if (existing) await this.packages.assertMayPush(p.ctx, NUGET, id);
    const duplicates = existing
      ? undefined
      : await this.packages.checkDuplicate(p.ctx, {
          ...ref,
          conflicts: (files) => files.some((f) => f.file_name.endsWith('.nupkg')),
          refuse: () => httpErrors.conflict('A package with the same name and version already exists'),
        });
    return this.packages.write(
      async (w) => {
        if (existing) {
          await w.addFile(existing, { fileName, blob, metadata: { pdbs } });
          return existing;
        }
        const { pkg, created } = await w.upsertPackage({ ...ref, metadata, duplicates });
        if (!created) await w.update(pkg, { metadata });
        await w.addFile(pkg, { fileName, blob });
        return pkg;
      },
      { blobs: [blob] },
    );
  }
}
