import { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import { FormatUploads, type Package, type ProjectContext, type StoredBlob, ZipError, type ZipSource } from '@stowage/core';

import type { GoFormatConfig } from './go.config';
import { goError } from './go.errors';
import { GO_OPTIONS } from './go.module-definition';
import { checkModuleZip, MAX_ZIP_FILE, moduleDirective, ModuleZipError, openModuleZip } from './go.module-zip';
import { checkModulePath, checkModuleVersion, GO, GoNameError } from './go.naming';

export const zipFileName = (version: string) => `${version}.zip`;
export const modFileName = (version: string) => `${version}.mod`;

export interface GoUpload {
  ctx: ProjectContext;
  module: string;
  version: string;
  body: Readable;
  /** Content-Length, when the client sent one. */
  length?: number;
}

const invalid = (message: string) => goError(400, message);
const duplicate = (module: string, version: string) =>
  goError(409, `${module}@${version} already exists: published module versions are immutable`);

/**
 * Publishes one module version from its zip: the name and version are checked before the
 * body is read, the zip is stored once, then read back from storage and checked against
 * every rule the go command enforces; only then are the package, its .zip and its .mod
 * written in one transaction. A refused upload leaves nothing behind.
 */
@Injectable()
export class GoUploads extends FormatUploads<GoFormatConfig>(GO_OPTIONS) {
  /** The go command refuses zips over 500 MiB, whatever the limit (and with none). */
  protected override get maxSize(): number {
    return Math.min(super.maxSize, MAX_ZIP_FILE);
  }

  protected override tooLarge() {
    return goError(413, `module zip is too large (max size is ${this.maxSize} bytes)`);
  }

  async upload(u: GoUpload): Promise<Package> {
    const { ctx, module, version } = u;
    let incompatible: boolean;
    try {
      checkModulePath(module);
      incompatible = checkModuleVersion(module, version).build === '+incompatible';
    } catch (err) {
      throw err instanceof GoNameError ? invalid(`${module}@${version}: ${err.message}`) : err;
    }
    this.refuseDeclaredLength(u.length);
    const ref = { projectId: ctx.project.id, packageType: GO, name: module, version };
    const duplicates = await this.packages.checkDuplicate(ctx, {
      ...ref,
      conflicts: 'version',
      allowedBy: 'never',
      refuse: () => duplicate(module, version),
    });

    const zip = await this.store(u.body);
    const blobs: StoredBlob[] = [zip];
    try {
      const goMod = await this.checkZip(zip, module, version, incompatible);
      const mod = await this.storage.store(Readable.from([goMod]));
      blobs.push(mod);
      // The upsert locks the (module, version) row: of two racing uploads one creates it, the other is refused.
      return await this.packages.write(async (w) => {
        const { pkg } = await w.upsertPackage({ ...ref, status: 'default', duplicates });
        await w.addFile(pkg, { fileName: zipFileName(version), blob: zip });
        await w.addFile(pkg, { fileName: modFileName(version), blob: mod });
        return pkg;
      });
    } catch (err) {
      // Nothing half-published: the blobs this upload created go too.
      for (const b of blobs) await this.storage.release(b).catch(() => undefined);
      throw err;
    }
  }

  /** Reads the stored zip back and returns the .mod to serve for it. */
  private async checkZip(zip: StoredBlob, module: string, version: string, incompatible: boolean): Promise<Buffer> {
    const row = await this.storage.blob(zip.sha256);
    if (!row) throw new Error(`blob ${zip.sha256} vanished`);
    const store = this.storage.blobStore(row.store as 'local' | 'object');
    let goMod: Buffer | null;
    try {
      const source: ZipSource = { size: zip.size, read: (range) => store.get(row.storage_key, range) };
      const reader = await openModuleZip(source, this.config.max_zip_entries);
      goMod = await checkModuleZip(reader, module, version);
    } catch (err) {
      throw err instanceof ModuleZipError || err instanceof ZipError ? invalid(`invalid module zip: ${err.message}`) : err;
    }
    if (goMod === null) {
      if (incompatible) return Buffer.from(`module ${module}\n`);
      throw invalid(`invalid module zip: ${module}@${version}/go.mod is missing`);
    }
    if (incompatible) {
      throw invalid(`${module}@${version}: +incompatible versions are for modules without a go.mod file; this one has one`);
    }
    const declared = moduleDirective(goMod.toString('utf8'));
    if (declared === null) throw invalid(`invalid module zip: go.mod has no module directive`);
    if (declared !== module) throw invalid(`go.mod declares module "${declared}", but the upload is for "${module}"`);
    return goMod;
  }
}
