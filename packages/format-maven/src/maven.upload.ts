import type { Readable } from 'node:stream';

import { Injectable } from '@nestjs/common';
import {
  FormatUploads,
  HttpError,
  httpErrors,
  LIVE_STATUSES,
  type PackageFile,
  type ProjectContext,
  readSmallBody,
  type StoredBlob,
} from '@stowage/core';

import type { MavenFormatConfig } from './maven.config';
import { type MetadataLevel, readPomCoordinates, readUploadedMetadata } from './maven.metadata';
import { MAVEN_OPTIONS } from './maven.module-definition';
import { type ChecksumKind, fileMatchesCoordinates, isSnapshot, MAVEN, type MavenTarget, splitName } from './maven.naming';

/** How long a client's own copy of a maven-metadata.xml is kept for its checksum uploads. */
const METADATA_CHECKSUM_WINDOW_MS = 10 * 60_000;

const duplicate = () => httpErrors.badRequest('Duplicate package is not allowed');
const HEX_LENGTH: Record<ChecksumKind, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };
const DIGEST: Record<ChecksumKind, 'file_md5' | 'file_sha1' | 'file_sha256' | 'file_sha512'> = {
  md5: 'file_md5',
  sha1: 'file_sha1',
  sha256: 'file_sha256',
  sha512: 'file_sha512',
};

export interface MavenUpload {
  ctx: ProjectContext;
  target: MavenTarget;
  body: Readable;
  /** Content-Length, when the client sent one. */
  length?: number;
}

export type UploadResult = { status: 200; file: PackageFile } | { status: 200 | 204 };

/**
 * One PUT into a project's Maven repository. Checksum files are verified against the file
 * they name (never stored); maven-metadata.xml and POMs are checked after they are stored
 * once and refused (blob released, nothing written) when they are malformed or name other
 * coordinates; everything else is stored and attached in one transaction.
 */
@Injectable()
export class MavenUploads extends FormatUploads<MavenFormatConfig>(MAVEN_OPTIONS) {
  async upload(u: MavenUpload): Promise<UploadResult> {
    const { target } = u;
    if (target.checksum) return this.verifyChecksum(u, target.checksum);
    this.refuseDeclaredLength(u.length);
    if (target.kind === 'file' && !fileMatchesCoordinates(target)) {
      throw httpErrors.invalidParam('file_name', `is invalid: expected ${target.artifactId}-${target.version}[-classifier].<extension>`);
    }
    const ref = { projectId: u.ctx.project.id, packageType: MAVEN, name: target.name, version: target.version };
    // SNAPSHOTs are republished by design; metadata always is.
    const checkDuplicates = target.kind === 'file' && !isSnapshot(target.version);
    // Either call refuses a push a protection rule holds back, before the body is read.
    if (!checkDuplicates) await this.packages.assertMayPush(u.ctx, MAVEN, target.name);
    const duplicates = checkDuplicates
      ? await this.packages.checkDuplicate(u.ctx, {
          ...ref,
          conflicts: (files) => files.some((f) => f.file_name === target.fileName),
          refuse: duplicate,
        })
      : undefined;

    const isMetadata = target.kind === 'metadata';
    const blob = await this.store(u.body, isMetadata ? { maxSize: Math.min(this.maxSize, this.config.max_metadata_size) } : {});
    let level: MetadataLevel | undefined;
    try {
      if (blob.size === 0) throw httpErrors.invalidParam('file', 'is missing');
      if (isMetadata) level = await this.checkMetadata(target, blob);
      else if (target.fileName.endsWith('.pom')) await this.checkPom(target, blob);
    } catch (err) {
      await this.storage.release(blob);
      throw err;
    }

    const file = await this.packages.write(
      async (w) => {
        const { pkg } = await w.upsertPackage({ ...ref, status: 'default', duplicates });
        const same = await w.files(pkg, target.fileName);
        const added = await w.addFile(pkg, { fileName: target.fileName, blob, metadata: level ? { level } : undefined });
        // Artifact files keep their history. Metadata documents are served rendered (or the newest),
        // but each client's own copy is kept for a while: its checksums follow it, and a deploy of
        // another version of the artifact may have uploaded a newer document in between.
        if (isMetadata)
          await w.removeFiles(
            pkg,
            same.filter((f) => f.created_at.getTime() < Date.now() - METADATA_CHECKSUM_WINDOW_MS),
          );
        return added;
      },
      { blobs: [blob] },
    );
    return { status: 200, file };
  }

  /**
   * `.sha1`, `.md5`, `.sha256`, `.sha512`: compared with the named file's digest
   * (case and whitespace ignored, `<hex>  <name>` accepted).
   */
  private async verifyChecksum(u: MavenUpload, kind: ChecksumKind): Promise<UploadResult> {
    const text = (await readSmallBody(u.body, { max: 1024, declared: u.length, tooLarge: () => this.tooLarge() })).toString('utf8');
    const hex = /^\s*([0-9a-fA-F]+)(?:\s|$)/.exec(text)?.[1]?.toLowerCase();
    if (!hex || hex.length !== HEX_LENGTH[kind]) throw httpErrors.invalidParam('file', `is not a ${kind} checksum`);
    const pkg = await this.packages.findPackage(
      { projectId: u.ctx.project.id, packageType: MAVEN, name: u.target.name, version: u.target.version },
      LIVE_STATUSES,
    );
    const copies = pkg ? (await this.packages.listFiles([pkg.id])).filter((f) => f.file_name === u.target.fileName) : [];
    if (!copies.length) throw httpErrors.notFound('Package');
    // Any stored copy will do: the checksum proves the server holds the bytes the client sent,
    // even when a concurrent deploy stored a newer copy of the same name in between.
    if (!copies.some((f) => f[DIGEST[kind]] === hex)) {
      throw new HttpError(409, { message: `409 Conflict - ${kind} checksum does not match ${u.target.fileName}` });
    }
    return { status: kind === 'md5' ? 200 : 204 };
  }

  private async readBack(blob: StoredBlob): Promise<string> {
    const stream = await this.storage.open(blob.sha256);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async checkMetadata(target: MavenTarget, blob: StoredBlob): Promise<MetadataLevel> {
    const invalid = (why: string) => httpErrors.invalidParam('maven-metadata.xml', `is invalid: ${why}`);
    let meta;
    try {
      meta = await readUploadedMetadata(await this.readBack(blob));
    } catch (err) {
      throw invalid((err as Error).message);
    }
    if (target.version !== '') {
      const { groupId, artifactId } = splitName(target.name);
      if (meta.groupId !== groupId || meta.artifactId !== artifactId || meta.version !== target.version) {
        throw invalid(`it describes ${meta.groupId}:${meta.artifactId}:${meta.version}, not ${groupId}:${artifactId}:${target.version}`);
      }
      return 'version';
    }
    if (meta.artifactId !== undefined) {
      const { groupId, artifactId } = splitName(target.name);
      if (meta.groupId !== groupId || meta.artifactId !== artifactId) {
        throw invalid(`it describes ${meta.groupId}:${meta.artifactId}, not ${groupId}:${artifactId}`);
      }
      return 'artifact';
    }
    if (!meta.plugins) throw invalid('it names no artifactId and lists no plugins');
    return 'group';
  }

  private async checkPom(target: MavenTarget & { kind: 'file' }, blob: StoredBlob): Promise<void> {
    if (blob.size > this.config.max_metadata_size) return;
    let pom;
    try {
      pom = await readPomCoordinates(await this.readBack(blob));
    } catch (err) {
      throw httpErrors.invalidParam('pom', `is invalid: ${(err as Error).message}`);
    }
    const expected = { groupId: target.groupId, artifactId: target.artifactId, version: target.version };
    for (const key of ['groupId', 'artifactId', 'version'] as const) {
      const value = pom[key];
      if (value !== undefined && !value.includes('${') && value !== expected[key]) {
        throw httpErrors.invalidParam('pom', `is invalid: its ${key} is ${value}, the path says ${expected[key]}`);
      }
    }
  }
}
