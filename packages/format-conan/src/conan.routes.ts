import { Get, Inject, Injectable, Req, Res } from '@nestjs/common';
import {
  FileStorage,
  httpErrors,
  PackageAccess,
  type PackageFile,
  packageFileJson,
  type ProjectContext,
  StowageConfig,
} from '@stowage/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ConanAuth } from './conan.auth';
import { sendEmpty, sendJson, sendText } from './conan.http';
import { ConanMetadata } from './conan.metadata';
import { type FileSlot, type RecipeRef, searchPattern } from './conan.naming';
import { ConanRemoval } from './conan.removal';
import { ConanUploads, type UploadResult } from './conan.upload';

// Handler pieces both API versions share.

/** URL parameters of a recipe reference. */
export type RefParams = { name: string; version: string; user: string; channel: string };

/** Upload answers: 200 with GitLab's file record; 200 empty or 201 for a checksum probe. */
export function sendUpload(reply: FastifyReply, result: UploadResult): FastifyReply {
  if (result.status === 201) return sendEmpty(reply, 201);
  return result.file ? sendJson(reply, packageFileJson(result.file)) : sendEmpty(reply, 200);
}

/** The JSON body of `upload_urls`, `packages/delete`, `remove_files`: an object, or 400. */
export function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpErrors.badRequest('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The `search` query's pattern (`q`, case-insensitive unless `ignorecase=False`). */
export function queryPattern(query: Record<string, string>) {
  return searchPattern(query.q, query.ignorecase !== 'False' && query.ignorecase !== 'false');
}

/** The token routes both API versions serve: `users/authenticate`, `users/check_credentials`. */
@Injectable()
export abstract class ConanUserRoutes {
  constructor(
    readonly auth: ConanAuth,
    readonly metadata: ConanMetadata,
    readonly uploads: ConanUploads,
    readonly removal: ConanRemoval,
    readonly storage: FileStorage,
    @Inject(StowageConfig) readonly config: StowageConfig,
  ) {}

  @Get('users/authenticate')
  @PackageAccess('read', { scope: 'instance' })
  async authenticate(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return sendText(reply, await this.auth.issueToken(request));
  }

  @Get('users/check_credentials')
  @PackageAccess('read', { scope: 'instance' })
  async checkCredentials(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.auth.requireCredentials(request);
    return sendText(reply, 'ok');
  }

  /** Streams one file of a slot (404 when absent), as `application/octet-stream`. */
  protected async sendSlotFile(
    request: FastifyRequest,
    reply: FastifyReply,
    target: { ctx: ProjectContext; ref: RecipeRef; slot: FileSlot; fileName: string },
  ): Promise<FastifyReply> {
    const { pkg, files } = await this.metadata.slot(target.ctx, target.ref, target.slot);
    const file: PackageFile | undefined = files.get(target.fileName);
    if (!file) throw httpErrors.notFound('Package file');
    this.metadata.markDownloaded(pkg, target.slot.kind, target.fileName, request);
    return this.storage.send(request, reply, file);
  }
}
