import { IsString, MaxLength } from 'class-validator';

import { BooleanSetting, IntegerSetting } from './settings';

/**
 * `rate_limits`: GitLab's package registry rate limits, under GitLab's application setting
 * names. Off by default, as in GitLab; defaults are GitLab's (800 per 15 s per IP, 1000 per
 * 15 s per user). Counted per server process, or across servers in Redis when `redis.url` is set.
 */
export class RateLimitsConfig {
  @BooleanSetting() throttle_unauthenticated_packages_api_enabled = false;
  @IntegerSetting({ min: 1 }) throttle_unauthenticated_packages_api_requests_per_period = 800;
  @IntegerSetting({ min: 1, max: 86_400 }) throttle_unauthenticated_packages_api_period_in_seconds = 15;
  @BooleanSetting() throttle_authenticated_packages_api_enabled = false;
  @IntegerSetting({ min: 1 }) throttle_authenticated_packages_api_requests_per_period = 1000;
  @IntegerSetting({ min: 1, max: 86_400 }) throttle_authenticated_packages_api_period_in_seconds = 15;
  /** The plain-text body of a 429 (GitLab's `rate_limiting_response_text`); a newline is added. */
  @IsString() @MaxLength(1000) rate_limiting_response_text = 'Retry later';
}
