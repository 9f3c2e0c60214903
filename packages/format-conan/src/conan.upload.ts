import { pipeline } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import {
  declaredLength,
  type DuplicateCheck,
  FileStorage,
  type FormatModuleOptions,
  FormatUploadService,
  hasBody,
  httpErrors,
  type PackageFile,
  PackageService,
  type ProjectContext,
  requestStream,
  type StoredBlob,
  tarScanStage,
} from '@stowage/core';
import type { FastifyRequest } from 'fastify';

import type { ConanFormatConfig } from './conan.config';
import { type ConanInfo, ConanMetadata, inSlot, MAX_INFO_SIZE, parseConanInfo, slotFiles, slotMetadata } from './conan.metadata';
import { CONAN_OPTIONS } from './conan.module-definition';
import { CONAN } from './conan.naming';
import { type FileSlot, packageVersion, type RecipeRef } from './conan.naming';

const duplicate = () => httpErrors.badRequest('Duplicate package is not allowed');

export interface ConanUpload {
  ctx: ProjectContext;
  ref: RecipeRef;
  slot: FileSlot;
  fileName: string;
  request: FastifyRequest;
}

/** 201: "already stored, skip" (probe only); 200: stored, or a probe the client must follow with the file. */
export interface UploadResult {
  status: 200 | 201;
  file?: PackageFile;
}

/**
 * One raw-body PUT of a Conan file. An empty body is the client's checksum-deploy probe and
 * stores nothing; a file is streamed once into storage, then its row is written in one
 * transaction that replaces the older file of the same name in the same slot.
 */
@Injectable()
export class ConanUploads extends FormatUploadService<ConanFormatConfig> {
  constructor(
    packages: PackageService,
    storage: FileStorage,
    @Inject(CONAN_OPTIONS) options: FormatModuleOptions<ConanFormatConfig>,
    private readonly metadata: ConanMetadata,
  ) {
    super(packages, storage, options);
  }

  async upload(u: ConanUpload): Promise<UploadResult> {
    if (!hasBody(u.request)) return this.probe(u);
    this.refuseDeclaredLength(declaredLength(u.request));
    // Before the body: the duplicate check below needs the stored bytes.
    await this.packages.assertMayPush(u.ctx, CONAN, u.ref.name);
    const scan = this.archiveScan(u.fileName);
    const body = scan ? pipeline(requestStream(u.request), scan.stage, () => undefined) : requestStream(u.request);
    const blob = await this.store(body).catch((err) => {
      const refused = scan?.problem();
      throw refused ? httpErrors.badRequest(`Invalid ${u.fileName}: ${refused.message}`) : err;
    });
    let info: ConanInfo | undefined;
    let duplicates: DuplicateCheck;
    try {
      if (u.slot.kind === 'package' && u.fileName === 'conaninfo.txt') info = parseConanInfo(await this.readSmall(blob));
      // With duplicates refused (package settings), a file of a slot is never replaced by other bytes.
      duplicates = await this.packages.checkDuplicate(u.ctx, {
        packageType: CONAN,
        name: u.ref.name,
        version: packageVersion(u.ref),
        regexVersion: u.ref.version,
        conflicts: (files) => {
          const older = files.filter((f) => f.file_name === u.fileName && inSlot(f, u.slot));
          return older.length > 0 && !older.some((f) => f.file_sha256 === blob.sha256);
        },
        refuse: duplicate,
      });
    } catch (err) {
      await this.storage.release(blob);
      throw err;
    }
    const file = await this.packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({
          projectId: u.ctx.project.id,
          packageType: CONAN,
          name: u.ref.name,
          version: packageVersion(u.ref),
          metadata: { package_username: u.ref.user, package_channel: u.ref.channel, conan_version: u.ref.version },
          duplicates,
        });
        const older = (await w.files(pkg, u.fileName)).filter((f) => inSlot(f, u.slot));
        const same = older.find((f) => f.file_sha256 === blob.sha256);
        if (same) return same;
        await w.removeFiles(pkg, older);
        return w.addFile(pkg, { fileName: u.fileName, blob, metadata: { ...slotMetadata(u.slot), ...(info ? { conan_info: info } : {}) } });
      },
      { blobs: [blob] },
    );
    return { status: 200, file };
  }

  /**
   * The clients unpack the .tgz files: each is read as it streams in (once, beside storage) and
   * refused if an entry could land outside the package folder. Symlinks that stay inside are
   * kept, as packages of shared libraries hold them (`libz.so -> libz.so.1`).
   */
  private archiveScan(fileName: string): ReturnType<typeof tarScanStage> | undefined {
    if (!fileName.endsWith('.tgz')) return undefined;
    return tarScanStage({ maxUnpackedSize: this.config.max_unpacked_size, links: 'inside' });
  }

  /** 201 only when a file with exactly the announced SHA-1 is stored at this path. */
  private async probe(u: ConanUpload): Promise<UploadResult> {
    const sha1 = String(u.request.headers['x-checksum-sha1'] ?? '')
      .trim()
      .toLowerCase();
    const pkg = await this.metadata.findRecipe(u.ctx, u.ref);
    if (!pkg || !sha1) return { status: 200 };
    const existing = slotFiles(await this.packages.listFiles([pkg.id]), u.slot).get(u.fileName);
    return existing && existing.file_sha1 === sha1 ? { status: 201, file: existing } : { status: 200 };
  }

  private async readSmall(blob: StoredBlob): Promise<string> {
    if (blob.size > MAX_INFO_SIZE) throw httpErrors.badRequest('conaninfo.txt is too large');
    const parts: Buffer[] = [];
    for await (const chunk of await this.storage.open(blob.sha256)) parts.push(chunk as Buffer);
    const text = Buffer.concat(parts).toString('utf8');
    // Its sections are stored as jsonb, which cannot hold U+0000.
    if (text.includes('\0')) throw httpErrors.badRequest('conaninfo.txt contains a NUL character');
    return text;
  }
}
