import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import {
  FileStorage,
  type FormatModuleOptions,
  httpErrors,
  type PackageFile,
  PackageService,
  PackageSettingsService,
  type PackageStatus,
  type ProjectContext,
  SizeLimitExceededError,
} from '@stowage/core';
import type { GenericFormatConfig } from './generic.config';
import { GENERIC_OPTIONS } from './generic.module-definition';
import type { GenericTarget } from './generic.naming';

export const GENERIC = 'generic';

const tooLarge = () => httpErrors.badRequest('File is too large');
const duplicate = () => httpErrors.badRequest('Duplicate package is not allowed');

export interface GenericUpload {
  ctx: ProjectContext;
  target: GenericTarget;
  /** Set on a new package (default `default`); on an existing one only when given. */
  status?: PackageStatus;
  body: Readable;
  /** Content-Length, when the client sent one. */
  length?: number;
}

/**
 * One file into a generic package: checks that fail without reading the body run first,
 * the bytes are stored once, and the package and file rows are written in one transaction
 * that re-checks the duplicate rule under the package row's lock.
 */
@Injectable()
export class GenericUploads {
  constructor(
    private readonly packages: PackageService,
    private readonly settings: PackageSettingsService,
    private readonly storage: FileStorage,
    @Inject(GENERIC_OPTIONS) private readonly options: FormatModuleOptions<GenericFormatConfig>,
  ) {}

  private get maxSize(): number {
    return this.options.config.max_file_size || Infinity;
  }

  async upload(u: GenericUpload): Promise<PackageFile> {
    const { ctx, target } = u;
    if (u.length !== undefined && u.length > this.maxSize) throw tooLarge();
    const ref = { projectId: ctx.project.id, packageType: GENERIC, name: target.name, version: target.version };
    const allowed = await this.settings.duplicatesAllowed(ctx, GENERIC, target.name, target.version);
    if (!allowed) {
      const existing = await this.packages.findPackage(ref, ['default', 'hidden', 'processing', 'error']);
      if (existing && (await this.packages.findFile(existing.id, target.fileName))) throw duplicate();
    }

    const blob = await this.storage.store(u.body, { maxSize: this.maxSize }).catch((err) => {
      throw err instanceof SizeLimitExceededError ? tooLarge() : err;
    });
    if (blob.size === 0) {
      await this.storage.release(blob);
      throw httpErrors.invalidParam('file', 'is missing');
    }

    return this.packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({ ...ref, status: u.status });
        if (!allowed && (await w.files(pkg, target.fileName)).length) throw duplicate();
        return w.addFile(pkg, { fileName: target.fileName, blob });
      },
      { blobs: [blob] },
    );
  }
}

