import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ApiAccess } from '../auth/api-access.guard';
import { StowageConfig } from '../config';
import { externalBaseUrl } from '../config/external-url';
import { MAX_UNUSED_DAYS } from '../config/stowage-config';
import { ApiParams } from '../http/api-params';
import { httpErrors } from '../http/http-error';
import { pageParams, setPaginationHeaders } from '../http/pagination';
import { apiPackageType, formatPackageType } from '../packages/package-types';
import { FormatRegistry } from '../plugin/format-registry';
import { type CachedRemoteFile, RemoteCache, type RemoteFilter } from './remote-cache';

function fileJson(f: CachedRemoteFile) {
  return {
    id: f.id,
    package_type: apiPackageType(f.package_type),
    package_name: f.package_name,
    version: f.version,
    file_name: f.file_name,
    size: f.size,
    file_sha256: f.file_sha256,
    upstream_url: f.upstream_url,
    created_at: new Date(f.created_at).toISOString(),
    last_downloaded_at: new Date(f.last_used_at).toISOString(),
  };
}

/**
 * The files the upstream caches hold, instance-wide, for administrators: where each came from,
 * when and its size; removal of one, of a name or a format, and a prune by size or age.
 */
@Controller('api/v4/packages/remote_files')
export class RemoteCacheController {
  constructor(
    private readonly cache: RemoteCache,
    private readonly formats: FormatRegistry,
    @Inject(StowageConfig) private readonly config: StowageConfig,
  ) {}

  private filter(query: unknown): RemoteFilter {
    const p = new ApiParams(query, {});
    const apiType = p.oneOf('package_type', this.formats.names().map(apiPackageType));
    const packageType = apiType === undefined ? undefined : formatPackageType(apiType);
    const name = p.string('package_name', { max: 255 });
    if (name !== undefined && packageType === undefined) throw httpErrors.missingParam('package_type');
    return { packageType, packageName: name === undefined ? undefined : this.formats.get(packageType!).normalizeName(name) };
  }

  @Get()
  @ApiAccess({ admin: true })
  async list(@Query() query: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const page = pageParams(query);
    const { total, files } = await this.cache.list(this.filter(query), page);
    setPaginationHeaders(request, reply, page, total, externalBaseUrl(this.config));
    return files.map(fileJson);
  }

  @Delete(':id')
  @ApiAccess({ write: true, admin: true })
  @HttpCode(204)
  async removeOne(@Param('id') id: string) {
    if (!/^\d{1,18}$/.test(id)) throw httpErrors.notFound('Remote file');
    const removed = await this.cache.remove({ id: Number(id) });
    if (!removed.files) throw httpErrors.notFound('Remote file');
  }

  @Delete()
  @ApiAccess({ write: true, admin: true })
  async remove(@Query() query: unknown) {
    const removed = await this.cache.remove(this.filter(query));
    return { removed_files: removed.files, removed_bytes: removed.bytes };
  }

  @Post('prune')
  @ApiAccess({ write: true, admin: true })
  @HttpCode(200)
  async prune(@Query() query: unknown, @Req() request: FastifyRequest) {
    const p = new ApiParams(query, request.body);
    const policy = this.cache.policy();
    const maxSize = p.string('max_size');
    // Bytes: past ApiParams.integer's nine digits (a cache is often tens of gigabytes).
    if (maxSize !== undefined && !/^\d{1,15}$/.test(maxSize)) throw httpErrors.invalidParam('max_size');
    const maxUnusedDays = p.integer('max_unused_days');
    if (maxUnusedDays !== undefined && maxUnusedDays > MAX_UNUSED_DAYS) throw httpErrors.invalidParam('max_unused_days');
    const removed = await this.cache.evict({
      maxSize: maxSize === undefined ? policy.maxSize : Number(maxSize),
      maxUnusedDays: maxUnusedDays ?? policy.maxUnusedDays,
    });
    return { removed_files: removed.files, removed_bytes: removed.bytes };
  }
}
