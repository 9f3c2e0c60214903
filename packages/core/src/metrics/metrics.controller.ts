import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { MonitoringAllowList } from '../health/monitoring-allowlist';
import { StowageMetrics } from './stowage-metrics';

/**
 * `/-/metrics` in Prometheus' text format, as GitLab's: only for clients on
 * `monitoring.ip_whitelist`, a 404 to anyone else. Each process answers for itself.
 */
@Controller('-')
@UseGuards(MonitoringAllowList)
export class MetricsController {
  constructor(private readonly metrics: StowageMetrics) {}

  @Get('metrics')
  scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    reply.header('content-type', this.metrics.contentType).header('cache-control', 'no-store');
    return this.metrics.scrape();
  }
}
