import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';

import { HttpError } from '../http/http-error';

/** GitLab's throttle names, as its `RateLimit-Name` header gives them. */
export type ThrottleName = 'throttle_unauthenticated_packages_api' | 'throttle_authenticated_packages_api';

/**
 * One fixed-window request counter (rate-limiter-flexible: an atomic INCR with its window's
 * expiry in Redis, or a Map in the process) and the 429 GitLab's Rack::Attack answers once a
 * caller is past its limit.
 */
export class Throttle {
  constructor(
    readonly name: ThrottleName,
    readonly limit: number,
    readonly periodSeconds: number,
    private readonly limiter: RateLimiterAbstract,
    private readonly responseText: string,
  ) {}

  /** Counts one request of `key`; resolves when it is within the limit, rejects with the 429 otherwise. */
  async hit(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (outcome) {
      // A store failure the insurance limiter could not absorb either lets the request through:
      // an unreachable Redis must not take the registry down with it.
      if (outcome instanceof RateLimiterRes) throw this.throttled(outcome);
    }
  }

  /** GitLab's throttled response (lib/gitlab/rack_attack.rb): plain text and the RateLimit-* headers. */
  private throttled(res: RateLimiterRes): HttpError {
    const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    const reset = new Date(Math.ceil((Date.now() + res.msBeforeNext) / 1000) * 1000);
    return new HttpError(429, `${this.responseText}\n`, {
      'RateLimit-Name': this.name,
      // GitLab states the quota per minute, whatever the period.
      'RateLimit-Limit': String(Math.ceil((this.limit * 60) / this.periodSeconds)),
      'RateLimit-Observed': String(res.consumedPoints),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(reset.getTime() / 1000),
      'RateLimit-ResetTime': reset.toUTCString(),
      'Retry-After': String(retryAfter),
    });
  }
}
