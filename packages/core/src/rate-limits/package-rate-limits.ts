import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';

import type { Authentication } from '../auth/principal';
import { StowageConfig } from '../config';
import { Throttle, type ThrottleName } from './throttle';

/** How long start-up waits for Redis before counting in the process until it answers. */
const REDIS_READY_WAIT_MS = 5000;

/**
 * GitLab's package registry rate limits (`rate_limits`): anonymous requests (and requests whose
 * credentials were refused) per client address, authenticated ones per user (every token of a
 * user shares its bucket; a deploy token is its own). Checked by `PackageAccessGuard` right after
 * it authenticates, so every package route of every format and the Packages API count, with no
 * query added; health checks, metrics, the web UI's pages and assets and the admin API do not.
 * With `redis.url` the counters live in Redis and every server shares them; a Redis that stops
 * answering falls back to counting in the process.
 */
@Injectable()
export class PackageRateLimits implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('rate-limits');
  private readonly redis?: Redis;
  private readonly unauthenticated?: Throttle;
  private readonly authenticated?: Throttle;
  /** Whether any limit is on: the guard skips `check` otherwise, so limits off cost nothing. */
  readonly active: boolean = false;
  private redisDown = false;

  constructor(@Inject(StowageConfig) config: StowageConfig) {
    const c = config.rate_limits;
    const enabled = c.throttle_unauthenticated_packages_api_enabled || c.throttle_authenticated_packages_api_enabled;
    if (!enabled) return;
    this.active = true;
    if (config.redis.url) {
      // No offline queue: while Redis is down a count fails at once (and the insurance limiter counts) instead of waiting.
      this.redis = new Redis(config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
      this.redis.on('error', (err: Error) => {
        if (!this.redisDown) this.logger.warn(`Redis: ${err.message}; rate limits count in this process until it answers again`);
        this.redisDown = true;
      });
      this.redis.on('ready', () => (this.redisDown = false));
    }
    const throttle = (name: ThrottleName, limit: number, period: number) => {
      const memory = new RateLimiterMemory({ points: limit, duration: period });
      const limiter = this.redis
        ? new RateLimiterRedis({
            storeClient: this.redis,
            keyPrefix: `${config.redis.prefix}:${name}`,
            points: limit,
            duration: period,
            insuranceLimiter: memory,
          })
        : memory;
      return new Throttle(name, limit, period, limiter, c.rate_limiting_response_text);
    };
    if (c.throttle_unauthenticated_packages_api_enabled) {
      this.unauthenticated = throttle(
        'throttle_unauthenticated_packages_api',
        c.throttle_unauthenticated_packages_api_requests_per_period,
        c.throttle_unauthenticated_packages_api_period_in_seconds,
      );
    }
    if (c.throttle_authenticated_packages_api_enabled) {
      this.authenticated = throttle(
        'throttle_authenticated_packages_api',
        c.throttle_authenticated_packages_api_requests_per_period,
        c.throttle_authenticated_packages_api_period_in_seconds,
      );
    }
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    const ready = this.redis.connect().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), REDIS_READY_WAIT_MS).unref());
    if (!(await Promise.race([ready, timeout])))
      this.logger.warn('Redis is not answering yet; rate limits count in this process until it does');
  }

  async onModuleDestroy(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }

  /** Counts one package request; throws GitLab's 429 when its caller is past the limit. */
  async check(request: FastifyRequest, auth: Authentication): Promise<void> {
    const { principal } = auth;
    if (principal.kind === 'anonymous') {
      if (this.unauthenticated) await this.unauthenticated.hit(request.ip);
    } else if (this.authenticated) {
      await this.authenticated.hit(principal.kind === 'deploy' ? `deploy:${principal.token.id}` : `user:${principal.user.id}`);
    }
  }
}
