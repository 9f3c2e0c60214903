import { Controller, Get, Inject, Res, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import type { DataSource } from 'typeorm';

import { JobQueue } from '../jobs/job-queue';
import { BLOB_STORES, type BlobStores } from '../storage/file-storage.service';
import { MonitoringAllowList } from './monitoring-allowlist';

const CHECK_TIMEOUT_MS = 3000;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref())]);
}

/**
 * GitLab's probe paths: /-/health and /-/liveness (the process answers), /-/readiness (its
 * dependencies do, with their error text). Only for clients on `monitoring.ip_whitelist`.
 */
@Controller('-')
@UseGuards(MonitoringAllowList)
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobQueue,
    @Inject(BLOB_STORES) private readonly stores: BlobStores,
  ) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('liveness')
  liveness() {
    return { status: 'ok' };
  }

  @Get('readiness')
  async readiness(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks: Record<string, () => Promise<unknown>> = {
      database: () => this.ds.query('SELECT 1'),
      queue: () => this.jobs.check(),
      ...Object.fromEntries([...this.stores].map(([kind, store]) => [`storage_${kind}`, () => store.check()])),
    };
    const results: Record<string, { status: 'ok' | 'failed'; message?: string }> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check());
          results[name] = { status: 'ok' };
        } catch (err) {
          results[name] = { status: 'failed', message: (err as Error).message };
        }
      }),
    );
    const ok = Object.values(results).every((r) => r.status === 'ok');
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'failed', checks: results };
  }
}
