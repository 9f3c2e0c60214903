import type { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import {
  FormatUploads,
  HttpError,
  httpErrors,
  MultipartError,
  type Package,
  parseMultipart,
  parseUntrustedJson,
  type ProjectContext,
  type StoredBlob,
  type UntrustedJsonError,
  ZipError,
  ZipReader,
} from '@stowage/core';

import type { ComposerFormatConfig } from './composer.config';
import { COMPOSER_OPTIONS } from './composer.module-definition';
import { archiveFileName, COMPOSER, packageName, packageVersion, versionFromBranch, versionFromTag } from './composer.naming';

/** composer.json is read whole; anything bigger is not a real manifest (and may be a bomb). */
const MAX_COMPOSER_JSON = 1024 * 1024;
/** Keys the registry sets on every version object: an uploaded composer.json cannot fake them. */
export const SERVED_KEYS = ['version', 'version_normalized', 'dist', 'source', 'uid', 'notification-url', 'installation-source'];

const bad = (detail: string) => httpErrors.badRequest(detail);
const unprocessable = (message: string) => new HttpError(422, { message });
const duplicate = () => bad('Duplicate package is not allowed');
const HOW_TO_PUBLISH =
  'Stowage hosts no git repositories: send the package archive as multipart/form-data, the zip in field "file" ' +
  '(and optionally "version", or GitLab\'s "tag" or "branch"), e.g. curl --form "file=@package.zip" --form "version=1.0.0"';

export interface ComposerUpload {
  ctx: ProjectContext;
  /** The Content-Type the client sent. */
  contentType: string | undefined;
  body: Readable;
  /** Content-Length, when the client sent one. */
  length?: number;
}

interface Form {
  blob?: StoredBlob;
  fields: Map<string, string>;
}

/** What an archive says about itself. */
export interface Manifest {
  name: string;
  composerJson: Record<string, unknown>;
}

/**
 * Publishing by archive: the multipart body is streamed (the zip straight into storage),
 * composer.json is read from the stored zip through the random-access reader, then name,
 * version, ownership and duplicates are checked and the version written in one transaction.
 * On any refusal the stored bytes are released, so nothing stays behind.
 */
@Injectable()
export class ComposerUploads extends FormatUploads<ComposerFormatConfig>(COMPOSER_OPTIONS) {
  protected override tooLarge() {
    return httpErrors.payloadTooLarge(`the archive is larger than the limit of ${this.maxSize} bytes`);
  }

  async publish(u: ComposerUpload): Promise<Package> {
    this.refuseDeclaredLength(u.length, 64 * 1024);
    const form = await this.readForm(u);
    const blob = form.blob;
    if (!blob) throw httpErrors.missingParam('file');
    try {
      const manifest = await this.inspect(blob);
      const version = this.version(form.fields, manifest.composerJson);
      return await this.write(u.ctx, manifest, version, blob);
    } catch (err) {
      await this.storage.release(blob).catch(() => undefined);
      throw err;
    }
  }

  /** Streams the form: text fields collected, the `file` part stored, other files skipped. */
  private async readForm(u: ComposerUpload): Promise<Form> {
    const type = (u.contentType ?? '').toLowerCase();
    if (!type.startsWith('multipart/form-data')) {
      u.body.resume();
      throw bad(`${type ? `${type.split(';')[0]} bodies are` : 'A body without Content-Type is'} not accepted. ${HOW_TO_PUBLISH}`);
    }
    const form: Form = { fields: new Map() };
    try {
      for await (const part of parseMultipart(u.body, u.contentType, { maxFiles: 4, maxFieldSize: 4096 })) {
        if (part.kind === 'field') form.fields.set(part.name, part.value);
        else if (part.name === 'file') {
          if (form.blob) throw bad('send one archive per request, in field "file"');
          form.blob = await this.store(part.stream);
        }
      }
    } catch (err) {
      if (form.blob) await this.storage.release(form.blob).catch(() => undefined);
      if (err instanceof MultipartError) throw bad(`malformed multipart/form-data body: ${err.message}`);
      throw err;
    }
    if (!form.blob && (form.fields.has('tag') || form.fields.has('branch'))) throw bad(`"file" is missing. ${HOW_TO_PUBLISH}`);
    if (form.blob?.size === 0) {
      await this.storage.release(form.blob);
      throw httpErrors.invalidParam('file', 'is empty');
    }
    return form;
  }

  /** Reads composer.json from the stored archive (the root, or its single top directory). */
  async inspect(blob: StoredBlob): Promise<Manifest> {
    const source = { size: blob.size, read: (range: { start: number; end: number }) => this.storage.open(blob.sha256, range) };
    try {
      const zip = await ZipReader.open(source);
      // Composer unzips it: no path outside the package directory, no link, no name held twice.
      await zip.checkEntries();
      const unpacked = zip.entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
      const max = this.config.max_unpacked_size;
      if (unpacked > max) throw bad(`the archive unpacks to ${unpacked} bytes, more than the limit of ${max}`);
      const entry = zip.entry('composer.json') ?? zip.entry(`${singleTopDirectory(zip.entries.map((e) => e.name)) ?? '\0'}composer.json`);
      if (!entry) throw unprocessable('The file composer.json was not found in the archive root or its single top directory.');
      const text = (await zip.readEntry(entry, { maxSize: MAX_COMPOSER_JSON })).toString('utf8');
      return manifestOf(text);
    } catch (err) {
      if (err instanceof ZipError) throw bad(err.entry === undefined ? `the file is not a valid zip archive: ${err.message}` : err.message);
      throw err;
    }
  }

  /** The version field, else GitLab's tag or branch, else composer.json's `version`. */
  private version(fields: Map<string, string>, composerJson: Record<string, unknown>): string {
    const given = fields.get('version');
    if (given) return packageVersion(given, 'version');
    const tag = fields.get('tag');
    const branch = fields.get('branch');
    if (tag && branch) throw bad('send either "tag" or "branch", not both');
    if (tag) return versionFromTag(tag);
    if (branch) return versionFromBranch(branch);
    const own = composerJson.version;
    if (typeof own === 'string' && own) return packageVersion(own, 'composer.json "version"');
    throw bad('the version is missing: send a "version" field (or "tag" / "branch"), or set "version" in composer.json');
  }

  private async write(ctx: ProjectContext, manifest: Manifest, version: string, blob: StoredBlob): Promise<Package> {
    const ref = { projectId: ctx.project.id, packageType: COMPOSER, name: manifest.name, version };
    const duplicates = await this.packages.checkDuplicate(ctx, { ...ref, conflicts: (files) => files.length > 0, refuse: duplicate });
    return this.packages.write(async (w) => {
      // Names belong to one project instance-wide: serialise first publications of a name.
      await w.manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stowage:composer:${manifest.name}`]);
      const [taken] = await w.manager.query(
        `SELECT 1 FROM packages WHERE package_type = $1 AND normalized_name = $2 AND project_id <> $3 AND status <> 'pending_destruction' LIMIT 1`,
        [COMPOSER, manifest.name, ctx.project.id],
      );
      if (taken) throw bad(`Validation failed: Name ${manifest.name} is already taken by another project`);
      const { pkg, created } = await w.upsertPackage({ ...ref, status: 'default', metadata: manifest.composerJson, duplicates });
      let current = pkg;
      if (!created) {
        await w.removeFiles(pkg, await w.files(pkg));
        current = await w.update(pkg, { metadata: manifest.composerJson });
      }
      await w.addFile(current, { fileName: archiveFileName(manifest.name, version), blob });
      return current;
    }, {});
  }
}

/** `top/` when every entry lives in one top-level directory. */
export function singleTopDirectory(names: string[]): string | undefined {
  let top: string | undefined;
  for (const name of names) {
    const slash = name.indexOf('/');
    if (slash <= 0) return undefined;
    const dir = name.slice(0, slash + 1);
    if (top !== undefined && top !== dir) return undefined;
    top = dir;
  }
  return top;
}

/** Parses and checks composer.json text. */
export function manifestOf(text: string): Manifest {
  let json: unknown;
  try {
    // Bounded nesting and no NUL: the manifest is stored as jsonb and rendered into every index.
    json = parseUntrustedJson(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const { reason, message } = err as UntrustedJsonError;
    throw unprocessable(`Could not parse composer.json file. ${reason === 'syntax' ? 'Invalid JSON' : 'Refused'}: ${message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw unprocessable('Could not parse composer.json file. It must hold a JSON object.');
  const composerJson = json as Record<string, unknown>;
  return { name: packageName(composerJson.name), composerJson };
}
