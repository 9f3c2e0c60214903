import { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import {
  type DuplicateCheck,
  type DuplicateRule,
  FormatUploads,
  httpErrors,
  MultipartError,
  type PackageFile,
  parseMultipart,
  type ProjectContext,
  scanTar,
  type StoredBlob,
  TarError,
  ZipError,
  ZipReader,
} from '@stowage/core';

import type { PypiFormatConfig } from './pypi.config';
import type { PypiFileMetadata } from './pypi.metadata';
import { PYPI_OPTIONS } from './pypi.module-definition';
import {
  canonicalVersion,
  type DistFilename,
  isValidProjectName,
  METADATA_SUFFIX,
  normalizePypiName,
  parseDistFilename,
  parseVersion,
  PYPI,
} from './pypi.naming';

// GitLab's wording, plus the phrase twine --skip-existing looks for.
const duplicate = () => httpErrors.badRequest('Validation failed: File name has already been taken (File already exists)');
const invalidWheel = (why: string) => httpErrors.badRequest(`Invalid wheel: ${why}`);
const invalidSdist = (why: string) => httpErrors.badRequest(`Invalid sdist: ${why}`);

/** Form fields GitLab keeps, with its length limits (longer values are truncated, as GitLab does). */
const KEPT_FIELDS: Record<string, number> = {
  requires_python: 255,
  summary: 255,
  keywords: 1024,
  metadata_version: 16,
  author_email: 2048,
  description_content_type: 128,
  description: 1 << 20,
};

const MULTIPART_LIMITS = { maxFields: 2000, maxFieldSize: 1 << 20, maxFieldsSize: 4 << 20, maxFiles: 4 };

export interface PypiUpload {
  ctx: ProjectContext;
  body: Readable;
  contentType: string | undefined;
  /** Content-Length, when the client sent one. */
  length?: number;
}

type Fields = Map<string, string[]>;

/** A file name is published once, whatever the package settings say (PyPI's rule, and twine's --skip-existing relies on it). */
function duplicateRule(form: { name: string; version: string; fileName: string }): DuplicateRule {
  return {
    packageType: PYPI,
    name: form.name,
    version: form.version,
    conflicts: (files) => files.some((f) => f.file_name === form.fileName),
    allowedBy: 'never',
    refuse: duplicate,
  };
}

/**
 * The upload-form fields kept on the package row (`packages.metadata`), truncated to GitLab's
 * limits; `requires_python` is always present ('' when the upload had none).
 */
export function keptFields(fields: Map<string, string[]>): Record<string, string> & { requires_python: string } {
  const kept: Record<string, string> = {};
  for (const [k, max] of Object.entries(KEPT_FIELDS)) {
    const v = fields.get(k)?.[0];
    if (v !== undefined) kept[k] = v.slice(0, max);
  }
  return { ...kept, requires_python: kept.requires_python ?? '' };
}

/** RFC 822-style core metadata headers (METADATA / PKG-INFO) up to the body. */
export function parseCoreMetadata(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      last[last.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    last = headers.get(key) ?? [];
    last.push(line.slice(colon + 1).trim());
    headers.set(key, last);
  }
  return headers;
}

/**
 * twine's legacy upload: a multipart form whose `content` part is streamed into storage,
 * then checked (name, version, file name, digests, wheel metadata) before one transaction
 * records it. Any failure leaves nothing behind.
 */
@Injectable()
export class PypiUploads extends FormatUploads<PypiFormatConfig>(PYPI_OPTIONS) {
  async upload(u: PypiUpload): Promise<PackageFile> {
    this.refuseDeclaredLength(u.length, MULTIPART_LIMITS.maxFieldsSize);
    const fields: Fields = new Map();
    const blobs: StoredBlob[] = [];
    try {
      const { blob, fileName } = await this.receive(u, fields, blobs);
      const form = this.validate(fields, fileName);
      this.checkDigests(fields, blob);
      // The cheap refusal before any inflation (receive() made it already when the fields came first).
      const duplicates = await this.packages.checkDuplicate(u.ctx, duplicateRule(form));
      const coreMetadata = await this.coreMetadata(blob, form);
      let metadataBlob: StoredBlob | undefined;
      if (coreMetadata) blobs.push((metadataBlob = await this.storage.store(Readable.from([coreMetadata]))));
      return await this.record(u.ctx, form, blob, metadataBlob, duplicates);
    } catch (err) {
      for (const b of blobs) await this.storage.release(b).catch(() => undefined);
      throw this.clientError(err);
    }
  }

  private clientError(err: unknown): unknown {
    if (err instanceof MultipartError) return httpErrors.badRequest(`Invalid multipart body: ${err.message}`);
    return err;
  }

  /** Reads the form; the `content` part goes straight to storage. */
  private async receive(u: PypiUpload, fields: Fields, blobs: StoredBlob[]): Promise<{ blob: StoredBlob; fileName: string }> {
    let stored: { blob: StoredBlob; fileName: string } | undefined;
    for await (const part of parseMultipart(u.body, u.contentType, MULTIPART_LIMITS)) {
      if (part.kind === 'field') {
        fields.set(part.name, [...(fields.get(part.name) ?? []), part.value]);
        continue;
      }
      if (part.name !== 'content') continue; // gpg_signature and the like: not kept
      if (stored) throw httpErrors.badRequest('Only one content file per upload');
      // Refuse what is known to be wrong before reading the file.
      if (fields.has('name') && fields.has('version')) {
        const form = this.validate(fields, part.fileName);
        await this.packages.checkDuplicate(u.ctx, duplicateRule(form));
      }
      const blob = await this.store(part.stream);
      blobs.push(blob);
      stored = { blob, fileName: part.fileName };
    }
    if (!stored || stored.blob.size === 0) throw httpErrors.missingParam('content');
    return stored;
  }

  private validate(fields: Fields, fileName: string) {
    const one = (k: string) => fields.get(k)?.[0];
    const name = one('name')?.trim();
    const version = one('version')?.trim();
    if (!name) throw httpErrors.missingParam('name');
    if (!version) throw httpErrors.missingParam('version');
    if (!isValidProjectName(name)) throw httpErrors.badRequest('Validation failed: Name is invalid');
    if (!parseVersion(version)) throw httpErrors.badRequest('Validation failed: Version is invalid (not a PEP 440 version)');
    const dist = parseDistFilename(fileName, name);
    if (!dist)
      throw httpErrors.badRequest(
        `Validation failed: File name ${JSON.stringify(fileName)} is not a wheel (.whl) or sdist (.tar.gz, .zip, .tar.bz2) name`,
      );
    if (normalizePypiName(dist.name) !== normalizePypiName(name) || canonicalVersion(dist.version) !== canonicalVersion(version)) {
      throw httpErrors.badRequest(`Validation failed: File name ${fileName} does not match name ${name} and version ${version}`);
    }
    return { name, version, fileName, dist, kept: keptFields(fields) };
  }

  private checkDigests(fields: Fields, blob: StoredBlob): void {
    for (const [field, expected, length] of [
      ['sha256_digest', blob.sha256, 64],
      ['md5_digest', blob.md5, 32],
    ] as const) {
      const given = fields.get(field)?.[0]?.trim();
      if (given === undefined || given === '') continue;
      if (!new RegExp(`^[0-9a-f]{${length}}$`, 'i').test(given)) throw httpErrors.invalidParam(field);
      if (given.toLowerCase() !== expected) throw httpErrors.badRequest(`${field} does not match the uploaded file (received ${expected})`);
    }
  }

  /**
   * Checks every entry's name (pip unpacks them: see core's ArchiveEntryCheck) and returns the
   * core metadata to serve as `<file>.metadata` (PEP 658): a wheel's METADATA, or a `.tar.gz`
   * sdist's PKG-INFO, checked against the form. Reads with caps; null when there is none to
   * serve (zip sdists; PKG-INFO that PEP 643 does not vouch for).
   */
  private async coreMetadata(
    blob: StoredBlob,
    form: { name: string; version: string; fileName: string; dist: DistFilename },
  ): Promise<Buffer | null> {
    if (form.dist.kind === 'wheel') return this.wheelMetadata(blob, form);
    if (form.fileName.endsWith('.tar.gz')) return this.sdistMetadata(blob, form);
    if (form.fileName.endsWith('.zip')) {
      await this.openZip(blob, invalidSdist);
      return null;
    }
    // Node reads no bzip2, so its entries could not be checked; PyPI refuses these too (PEP 527).
    throw invalidSdist('.tar.bz2 sdists are not accepted (their entries cannot be checked); upload a .tar.gz');
  }

  /** The stored zip, its entries checked; a ZipError becomes `invalid`'s 400. */
  private async openZip(blob: StoredBlob, invalid: (why: string) => unknown): Promise<ZipReader> {
    const source = { size: blob.size, read: (range: { start: number; end: number }) => this.storage.open(blob.sha256, range) };
    try {
      const zip = await ZipReader.open(source, { maxEntries: 200_000 });
      await zip.checkEntries();
      return zip;
    } catch (err) {
      if (err instanceof ZipError) throw invalid(err.message);
      throw err;
    }
  }

  private checkNames(
    bytes: Buffer,
    form: { name: string; version: string },
    invalid: (why: string) => unknown,
    file: string,
  ): Map<string, string[]> {
    const meta = parseCoreMetadata(bytes.toString('utf8'));
    const metaName = meta.get('name')?.[0] ?? '';
    const metaVersion = meta.get('version')?.[0] ?? '';
    if (normalizePypiName(metaName) !== normalizePypiName(form.name) || canonicalVersion(metaVersion) !== canonicalVersion(form.version)) {
      throw invalid(`${file} names ${metaName} ${metaVersion}, not ${form.name} ${form.version}`);
    }
    return meta;
  }

  private async wheelMetadata(blob: StoredBlob, form: { name: string; version: string; dist: DistFilename }): Promise<Buffer> {
    const zip = await this.openZip(blob, invalidWheel);
    try {
      const candidates = zip.entries.filter((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
      const expectedDir = `${form.dist.name}-${form.dist.version}.dist-info/METADATA`;
      const entry = candidates.find((e) => e.name === expectedDir) ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (!entry) throw invalidWheel(`no ${expectedDir} in the archive`);
      const bytes = await zip.readEntry(entry, { maxSize: this.config.max_metadata_size });
      this.checkNames(bytes, form, invalidWheel, 'METADATA');
      return bytes;
    } catch (err) {
      if (err instanceof ZipError) throw invalidWheel(err.message);
      throw err;
    }
  }

  /**
   * `<top>/PKG-INFO` of a gzipped sdist, streamed from storage through core's tar reader, which
   * checks every entry (capped in entry size and in bytes the archive expands to). Served only
   * from Metadata-Version 2.2 on with Requires-Dist not dynamic (PEP 643): older PKG-INFO may
   * leave dependencies out, and pip would resolve without them.
   */
  private async sdistMetadata(blob: StoredBlob, form: { name: string; version: string }): Promise<Buffer | null> {
    let found;
    try {
      found = await scanTar(await this.storage.open(blob.sha256), {
        keep: (path) => /^[^/]+\/PKG-INFO$/.test(path),
        maxKeptSize: this.config.max_metadata_size,
        maxUnpackedSize: this.config.max_sdist_scan_size,
      });
    } catch (err) {
      if (err instanceof TarError) throw invalidSdist(err.message);
      throw err;
    }
    if (found.length > 1) throw invalidSdist(`more than one PKG-INFO at the top (${found.map((e) => e.path).join(', ')})`);
    const entry = found[0];
    if (!entry) throw invalidSdist('no <name>-<version>/PKG-INFO in the archive');
    const meta = this.checkNames(entry.data, form, invalidSdist, 'PKG-INFO');
    const [major, minor] = (meta.get('metadata-version')?.[0] ?? '').split('.').map(Number);
    const dynamic = (meta.get('dynamic') ?? []).map((d) => d.toLowerCase());
    const vouched = (major > 2 || (major === 2 && minor >= 2)) && !dynamic.includes('requires-dist');
    return vouched ? entry.data : null;
  }

  private async record(
    ctx: ProjectContext,
    form: ReturnType<PypiUploads['validate']>,
    blob: StoredBlob,
    metadataBlob: StoredBlob | undefined,
    duplicates: DuplicateCheck,
  ): Promise<PackageFile> {
    const packageMetadata: Record<string, unknown> = form.kept;
    const fileMetadata: PypiFileMetadata = {
      requires_python: form.kept.requires_python,
      filetype: form.dist.kind === 'wheel' ? 'bdist_wheel' : 'sdist',
      pyversion: form.dist.pyversion,
      ...(metadataBlob ? { core_metadata_sha256: metadataBlob.sha256 } : {}),
    };
    return this.packages.write(async (w) => {
      const { pkg, created } = await w.upsertPackage({
        projectId: ctx.project.id,
        packageType: PYPI,
        name: form.name,
        version: form.version,
        metadata: packageMetadata,
        duplicates,
      });
      if (!created) await w.update(pkg, { metadata: { ...pkg.metadata, ...packageMetadata } });
      const file = await w.addFile(pkg, { fileName: form.fileName, blob, metadata: fileMetadata as Record<string, unknown> });
      if (metadataBlob) {
        await w.addFile(pkg, {
          fileName: form.fileName + METADATA_SUFFIX,
          blob: metadataBlob,
          metadata: { core_metadata_of: form.fileName },
        });
      }
      return file;
    });
  }
}
