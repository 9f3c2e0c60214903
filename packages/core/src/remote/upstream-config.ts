import { Type } from 'class-transformer';
import { IsArray, IsIn, IsOptional, IsString, IsUrl, Matches, ValidateNested } from 'class-validator';

import { BooleanSetting, IntegerSetting, SecondsSetting } from '../config/settings';
import { FormatConfig } from '../config/stowage-config';

const MiB = 1024 ** 2;

export type UpstreamMode = 'redirect' | 'cache';

/**
 * `formats.<name>.upstream`: the registry a format forwards names nobody in scope holds to.
 * Each format that proxies subclasses it to set its ecosystem's public registry as `url`.
 */
export class UpstreamConfig {
  /**
   * Without `user:password@`: credentials in it would reach clients (a redirect mode's Location,
   * the cache listing's upstream_url) and never the upstream; `username`/`password` are for that.
   */
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'], disallow_auth: true },
    { message: '$property must be an http(s) URL without user:password@ (set username and password instead)' },
  )
  url!: string;
  /** `redirect`: GitLab's behaviour, a 302 to the upstream. `cache`: fetch once, verify, store and serve. */
  @IsIn(['redirect', 'cache']) mode: UpstreamMode = 'cache';
  /** Basic credentials sent to the upstream's own host only (never to a CDN it redirects to). */
  @IsOptional() @IsString() username?: string;
  @IsOptional() @IsString() password?: string;
  /** A bearer token, instead of username/password. */
  @IsOptional() @IsString() token?: string;
  /** Seconds to open a connection. */
  @SecondsSetting({ min: 0.001 }) connect_timeout = 10;
  /** Seconds without a byte from the upstream (its headers or its body) before the fetch fails; never a total time. */
  @SecondsSetting({ min: 0.001 }) timeout = 30;
  /** Seconds a fetched metadata document is served before it is revalidated. */
  @SecondsSetting() metadata_ttl = 300;
  /** Bytes a metadata document may have. */
  @IntegerSetting({ min: 1024 }) max_metadata_size = 64 * MiB;
  /**
   * Other hosts (`host` or `host:port`) the upstream may redirect to or link files at, as
   * a CDN it declares (PyPI's files.pythonhosted.org). No other host is ever fetched from.
   */
  @IsArray() @IsString({ each: true }) @Matches(/^[a-z0-9.-]+(:\d+)?$/i, { each: true }) hosts: string[] = [];
}

/**
 * A format that forwards names it does not hold (GitLab's `<format>_package_requests_forwarding`):
 * the instance default and lock, and the upstream. Groups override the switch unless locked.
 */
export abstract class ForwardingFormatConfig extends FormatConfig {
  @BooleanSetting() package_requests_forwarding = false;
  /** No group may change the switch (GitLab's `lock_<format>_package_requests_forwarding`). */
  @BooleanSetting() lock_package_requests_forwarding = false;
  abstract upstream: UpstreamConfig;
}

/** `@UpstreamSection(NpmUpstreamConfig)`: validates and instantiates a format's `upstream` key. */
export function UpstreamSection(type: () => new () => UpstreamConfig): PropertyDecorator {
  return (target, key) => {
    ValidateNested()(target, key);
    Type(type)(target, key);
  };
}

export function isForwardingConfig(config: FormatConfig | undefined): config is ForwardingFormatConfig {
  return config instanceof ForwardingFormatConfig;
}
