import { Type } from 'class-transformer';
import { Allow, IsArray, IsIn, IsOptional, IsString, IsUrl, Matches, MinLength, ValidateNested } from 'class-validator';

import { CidrListSetting } from './cidr-setting';
import { RateLimitsConfig } from './rate-limits-config';
import { BooleanSetting, IntegerSetting, SecondsSetting } from './settings';

// Property names are the config keys (snake_case, as in GitLab's gitlab.yml), so that an
// error's path is exactly the key an operator has to fix.

const MiB = 1024 * 1024;

export class ServerConfig {
  @IsString() @MinLength(1) host = '0.0.0.0';
  @IntegerSetting({ min: 0, max: 65535 }) port = 8080;
  /**
   * The URL clients reach the server at; used in every absolute URL the server renders (read it
   * through `externalBaseUrl()`). Always set once loaded: `http://localhost:<port>` when absent.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  external_url!: string;
  @BooleanSetting() trust_proxy = false;
  /** Limit for JSON and form bodies; streamed package uploads have their own limits. */
  @IntegerSetting({ min: 1024 }) body_limit = 1 * MiB;
  /** Seconds to wait for in-flight requests and jobs on shutdown. */
  @IntegerSetting({ min: 0 }) shutdown_timeout = 30;
  /** Seconds from a connection's first byte (or its opening) to the end of a request's headers; 0: none. */
  @SecondsSetting() headers_timeout = 60;
  /** Seconds without a byte of a request body before the request fails with 408; 0: none. Never a total time. */
  @SecondsSetting() body_timeout = 60;
  /** Seconds an idle keep-alive connection stays open for its next request. */
  @SecondsSetting({ min: 0.001 }) keep_alive_timeout = 72;
  /** Connections open at once; more are closed as they arrive. 0: no limit. */
  @IntegerSetting({ min: 0 }) max_connections = 1000;
  /** Connections open at once from one client address; 0: no limit (behind a proxy all share its address). */
  @IntegerSetting({ min: 0 }) max_connections_per_ip = 0;
}

export class DatabaseConfig {
  /** postgres://…; when absent, the embedded database under data_dir is used. */
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' }) url?: string;
  @IntegerSetting({ min: 1, max: 1000 }) pool_size = 10;
  /**
   * Bytes of PostgreSQL's page cache (shared_buffers) in the embedded database. It lives in
   * the process (PGlite's memory is written through when it starts), so it is resident from
   * the start; pages past it are read from the OS's file cache.
   */
  @IntegerSetting({ min: 1 * MiB, max: 8192 * MiB }) embedded_shared_buffers = 16 * MiB;
}

export class RedisConfig {
  /** redis://…; when absent, jobs run on an in-process queue. */
  @IsOptional() @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' }) url?: string;
  @IsString() @MinLength(1) prefix = 'stowage';
}

/**
 * The `packages.object_store` keys core reads. Where the bytes go (`remote_directory`,
 * `connection`) belongs to the object-storage plugin (`StoragePluginDefinition.config`).
 */
export class ObjectStoreConfig {
  @BooleanSetting() enabled = false;
  @BooleanSetting() direct_upload = false;
  @BooleanSetting() background_upload = true;
  @BooleanSetting() proxy_download = false;
}

/** A century: further back than PostgreSQL's dates reach is an error, not "keep forever" (that is 0). */
export const MAX_UNUSED_DAYS = 36_500;

/** `packages.remote_cache`: files fetched from upstream registries (`formats.<name>.upstream`). */
export class RemoteCacheConfig {
  /**
   * Bytes of cached upstream files kept; past it the least recently downloaded go first (hourly).
   * 0: no limit. Bounded by default: a public endpoint lets anonymous callers fill the cache.
   */
  @IntegerSetting({ min: 0 }) max_size = 20 * 1024 ** 3;
  /** Days a cached upstream file is kept after its last download; 0: no limit. */
  @IntegerSetting({ min: 0, max: MAX_UNUSED_DAYS }) max_unused_days = 0;
  /**
   * Bytes below which a first fetch is stored and verified before the answer starts (a digest
   * mismatch is then a clean 502). Larger files, or of unknown length, are streamed to the client
   * while they are written, and their last bytes are held until verified.
   */
  @IntegerSetting({ min: 0 }) stream_threshold = 4 * MiB;
}

/**
 * `packages.local_download_offload`: a GET of a locally stored file is answered with the file's
 * headers, no body and `header` naming the blob's storage key under `prefix`, for a proxy in
 * front (nginx's X-Accel-Redirect) to send the bytes from the storage directory itself.
 */
export class LocalDownloadOffloadConfig {
  @BooleanSetting() enabled = false;
  @Matches(/^[A-Za-z0-9-]+$/, { message: 'must be an HTTP header name' }) header = 'X-Accel-Redirect';
  /** The proxy's internal location (or, for X-Sendfile, the storage directory's path) the key is appended to. */
  @Matches(/^\/(.*\/)?$/, { message: 'must start and end with /' }) prefix = '/_stowage_blobs/';
}

/** The `packages` keys core reads; the local-storage plugin owns `storage_path`. */
export class PackagesConfig {
  @BooleanSetting() enabled = true;
  @ValidateNested()
  @Type(() => ObjectStoreConfig)
  object_store: ObjectStoreConfig = new ObjectStoreConfig();
  /**
   * Hours an unreferenced blob is kept before its bytes are removed; at least one, because an
   * upload stores its blob before the file row that claims it is written.
   */
  @IntegerSetting({ min: 1 }) blob_grace_period_hours = 24;
  /**
   * Seconds between two runs of a project's packages cleanup policy (GitLab's fixed cadence is
   * 12 hours); the job looks for due policies this often, and at least every minute.
   */
  @SecondsSetting({ min: 1 }) cleanup_interval = 12 * 3600;
  /**
   * Bytes of rendered metadata documents (packuments, index pages, maven-metadata.xml, their
   * compressed variants) each server process keeps, all formats together; 0 keeps none.
   */
  @IntegerSetting({ min: 0 }) rendered_cache_size = 128 * 1024 ** 2;
  /**
   * Bytes of small package files (128 KiB or less each) each server process keeps in memory for
   * downloads, by digest; 0 keeps none.
   */
  @IntegerSetting({ min: 0 }) small_file_cache_size = 64 * 1024 ** 2;
  @ValidateNested()
  @Type(() => RemoteCacheConfig)
  remote_cache: RemoteCacheConfig = new RemoteCacheConfig();
  @ValidateNested()
  @Type(() => LocalDownloadOffloadConfig)
  local_download_offload: LocalDownloadOffloadConfig = new LocalDownloadOffloadConfig();
}

export class JobsConfig {
  /** Whether `stowage serve` also runs the job processors (a `stowage worker` always does). */
  @BooleanSetting() run_in_server = true;
}

/** GitLab's `monitoring` section: who may read the health checks and metrics. */
export class MonitoringConfig {
  /** Clients (addresses, CIDR ranges) answered by /-/health, /-/liveness and /-/readiness; others get a 404. */
  @CidrListSetting() ip_whitelist: string[] = ['127.0.0.0/8', '::1/128'];
  /** `stowage worker`: the port it answers /-/metrics on (server.host); 0 (default): none. */
  @IntegerSetting({ min: 0, max: 65535 }) worker_metrics_port = 0;
}

export class LogConfig {
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) level = 'info';
}

/** What every `formats.<name>` section has; a format plugin may extend it. */
export class FormatConfig {
  @BooleanSetting() enabled = true;
  /**
   * Bytes one uploaded file may have; 0 for no limit (as GitLab's plan limits). Each format
   * sets its own default (GitLab's `<format>_max_file_size`).
   */
  @IntegerSetting({ min: 0 }) max_file_size = 1024 ** 3;
}

export class StowageConfig {
  @IsString() @MinLength(1) data_dir = './data';
  @ValidateNested() @Type(() => ServerConfig) server: ServerConfig = new ServerConfig();
  @ValidateNested() @Type(() => DatabaseConfig) database: DatabaseConfig = new DatabaseConfig();
  @ValidateNested() @Type(() => RedisConfig) redis: RedisConfig = new RedisConfig();
  @ValidateNested() @Type(() => PackagesConfig) packages: PackagesConfig = new PackagesConfig();
  @ValidateNested() @Type(() => JobsConfig) jobs: JobsConfig = new JobsConfig();
  @ValidateNested() @Type(() => LogConfig) log: LogConfig = new LogConfig();
  @ValidateNested() @Type(() => MonitoringConfig) monitoring: MonitoringConfig = new MonitoringConfig();
  @ValidateNested() @Type(() => RateLimitsConfig) rate_limits: RateLimitsConfig = new RateLimitsConfig();
  /** Extra plugin modules, loaded by package name. */
  @IsArray() @IsString({ each: true }) plugins: string[] = [];
  /** Validated per installed format plugin by the loader, so it is not decorated here. */
  @Allow() formats: Record<string, FormatConfig> = {};
}
