import type { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import {
  ApiParams,
  FormatUploads,
  httpErrors,
  MultipartError,
  type PackageFile,
  parseMultipart,
  type ProjectContext,
  type StoredBlob,
} from '@stowage/core';

import type { GenericFormatConfig } from './generic.config';
import { GENERIC_OPTIONS } from './generic.module-definition';
import type { GenericTarget } from './generic.naming';
import { GENERIC } from './generic.naming';

const duplicate = () => httpErrors.badRequest('Duplicate package is not allowed');

const FORM_USAGE = 'send the file itself as the request body (curl --upload-file FILE)';
/** Room for a form's part headers and fields around the file. */
const FORM_OVERHEAD = 64 * 1024;

export interface GenericUpload {
  ctx: ProjectContext;
  target: GenericTarget;
  /**
   * The query string: `status` (set on a new package, default `default`; on an existing one
   * only when given) and `select`. A form body may carry them as fields too (gitbeaker does).
   */
  query: unknown;
  /** The Content-Type the client sent. */
  contentType?: string;
  body: Readable;
  /** Content-Length, when the client sent one. */
  length?: number;
}

export interface GenericUploaded {
  file: PackageFile;
  /** `package_file`: answer with the file's JSON. */
  select?: 'package_file';
}

function uploadParams(query: unknown, form: Record<string, string> = {}) {
  const q = new ApiParams(query, form);
  return { status: q.oneOf('status', ['default', 'hidden'] as const), select: q.oneOf('select', ['package_file'] as const) };
}

/**
 * One file into a generic package: checks that fail without reading the body run first,
 * the bytes are stored once, and the package and file rows are written in one transaction
 * that re-checks the duplicate rule under the package row's lock.
 */
@Injectable()
export class GenericUploads extends FormatUploads<GenericFormatConfig>(GENERIC_OPTIONS) {
  async upload(u: GenericUpload): Promise<GenericUploaded> {
    const { ctx, target } = u;
    // Parameters that are wrong fail before the body is read.
    uploadParams(u.query);
    const form = /^multipart\/form-data\b/i.test(u.contentType ?? '');
    this.refuseDeclaredLength(u.length, form ? FORM_OVERHEAD : 0);
    const ref = { projectId: ctx.project.id, packageType: GENERIC, name: target.name, version: target.version };
    const duplicates = await this.packages.checkDuplicate(ctx, {
      ...ref,
      conflicts: (files) => files.some((f) => f.file_name === target.fileName),
      refuse: duplicate,
    });

    const { blob, fields } = form ? await this.receiveForm(u) : { blob: await this.store(u.body), fields: {} };
    let params: ReturnType<typeof uploadParams>;
    try {
      if (blob.size === 0) throw httpErrors.invalidParam('file', 'is missing');
      params = uploadParams(u.query, fields);
    } catch (err) {
      await this.storage.release(blob);
      throw err;
    }

    const file = await this.packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({ ...ref, status: params.status, duplicates });
        return w.addFile(pkg, { fileName: target.fileName, blob });
      },
      { blobs: [blob] },
    );
    return { file, select: params.select };
  }

  /**
   * A form (gitbeaker's PackageRegistry.publish sends one): the bytes of its one file part are
   * the file, its text fields parameters. Storing the envelope would corrupt the file, so a
   * form with no file part, or more than one, is refused.
   */
  private async receiveForm(u: GenericUpload): Promise<{ blob: StoredBlob; fields: Record<string, string> }> {
    let blob: StoredBlob | undefined;
    const fields: Record<string, string> = {};
    try {
      for await (const part of parseMultipart(u.body, u.contentType, { maxFields: 20, maxFieldSize: 1024, maxFiles: 2 })) {
        if (part.kind === 'field') fields[part.name] = part.value;
        else if (blob)
          throw httpErrors.badRequest(`a multipart/form-data upload must hold exactly one file part, this one has more; ${FORM_USAGE}`);
        else blob = await this.store(part.stream);
      }
    } catch (err) {
      if (blob) await this.storage.release(blob).catch(() => undefined);
      if (err instanceof MultipartError)
        throw httpErrors.badRequest(`malformed multipart/form-data body: ${err.message}; or ${FORM_USAGE}`);
      throw err;
    }
    if (!blob)
      throw httpErrors.badRequest(`a multipart/form-data upload must hold exactly one file part, this one has none; ${FORM_USAGE}`);
    return { blob, fields };
  }
}
