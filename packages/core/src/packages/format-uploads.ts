import type { Readable } from 'node:stream';

import { Inject, Injectable, type InjectionToken } from '@nestjs/common';

import type { FormatConfig } from '../config/stowage-config';
import { httpErrors } from '../http/http-error';
import type { FormatModuleOptions } from '../plugin/format-plugin';
import { FileStorage, type StoredBlob } from '../storage/file-storage.service';
import { SizeLimitExceededError } from '../storage/hashing-meter';
import { PackageService } from './package.service';

/** Bytes one uploaded file may have under a format's `max_file_size` (0: no limit, as GitLab's plan limits). */
export function fileSizeLimit(config: Pick<FormatConfig, 'max_file_size'>): number {
  return config.max_file_size || Infinity;
}

/**
 * What every format's upload service shares: PackageService, FileStorage and the format's
 * config, the size limit (`maxSize`), the refusal of a declared length over it, and `store()`,
 * which turns the limit's overrun into the format's own `tooLarge()` (GitLab's
 * `400 File is too large` unless the format says otherwise). Extend `FormatUploads(token)`,
 * which injects them.
 */
export abstract class FormatUploadService<C extends FormatConfig = FormatConfig> {
  constructor(
    protected readonly packages: PackageService,
    protected readonly storage: FileStorage,
    protected readonly options: FormatModuleOptions<C>,
  ) {}

  protected get config(): C {
    return this.options.config;
  }

  /** Bytes one uploaded file may have (`max_file_size`; 0: no limit). */
  protected get maxSize(): number {
    return fileSizeLimit(this.config);
  }

  /** The format's answer to a file over `maxSize`. */
  protected tooLarge(): Error {
    return httpErrors.badRequest('File is too large');
  }

  /** Refuses, before the body is read, a Content-Length over `maxSize` (plus `overhead`: a form's envelope). */
  protected refuseDeclaredLength(length: number | undefined, overhead = 0): void {
    if (length !== undefined && length > this.maxSize + overhead) throw this.tooLarge();
  }

  /** Stores one file of at most `maxSize` bytes (or `opts.maxSize`); a larger one is refused with `tooLarge()`. */
  protected async store(body: Readable, opts: { maxSize?: number; size?: number } = {}): Promise<StoredBlob> {
    try {
      return await this.storage.store(body, { maxSize: this.maxSize, ...opts });
    } catch (err) {
      throw err instanceof SizeLimitExceededError ? this.tooLarge() : err;
    }
  }
}

/**
 * `class GenericUploads extends FormatUploads<GenericFormatConfig>(GENERIC_OPTIONS) {}`: the
 * base class bound to the format's options token, so the service needs no constructor.
 */
export function FormatUploads<C extends FormatConfig>(
  optionsToken: InjectionToken,
): abstract new (packages: PackageService, storage: FileStorage, options: FormatModuleOptions<C>) => FormatUploadService<C> {
  @Injectable()
  abstract class BoundUploads extends FormatUploadService<C> {
    constructor(packages: PackageService, storage: FileStorage, @Inject(optionsToken) options: FormatModuleOptions<C>) {
      super(packages, storage, options);
    }
  }
  return BoundUploads;
}
