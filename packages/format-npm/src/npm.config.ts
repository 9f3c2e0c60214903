import { constants } from 'node:buffer';

import { fileSizeLimit, ForwardingFormatConfig, IntegerSetting, UpstreamConfig, UpstreamSection } from '@stowage/core';

const MiB = 1024 ** 2;

/** `formats.npm.upstream`: the public npm registry unless configured otherwise. */
export class NpmUpstreamConfig extends UpstreamConfig {
  override url = 'https://registry.npmjs.org';
}

export class NpmFormatConfig extends ForwardingFormatConfig {
  /** GitLab's `npm_max_file_size`: bytes per tarball, 0 for no limit (default 500 MiB). */
  override max_file_size = 500 * MiB;
  /**
   * Bytes a tarball may expand to when it is read through at publish (every entry's name is
   * checked, package.json read): a tar bomb stops here (default 512 MiB).
   */
  @IntegerSetting({ min: 1024 }) max_unpacked_size = 512 * MiB;
  /**
   * Bytes of JSON a publish may send (the tarball travels in it as base64); 0 derives it
   * from max_file_size: 4/3 of it plus 1 MiB for the manifest around it. Past it: 413.
   */
  @IntegerSetting({ min: 0 }) max_publish_body_size = 0;
  /**
   * Where `package_requests_forwarding` (GitLab's `npm_package_requests_forwarding`, off by
   * default here) sends names nobody in scope publishes: `mode: redirect` answers packuments
   * with a 302 and audits with a 307 there, `mode: cache` serves the upstream's packuments
   * (tarball URLs rewritten to Stowage) and tarballs from Stowage's own cache.
   */
  @UpstreamSection(() => NpmUpstreamConfig) upstream = new NpmUpstreamConfig();
}

/**
 * The largest publish body that can be read at all: JSON.parse takes a string, and V8's strings
 * end at this many characters (about 512 MiB). A bigger body would be buffered whole and then
 * fail to decode, so it is refused like any other body over the limit (413), from its declared
 * length before it is read.
 */
export const MAX_PARSABLE_BODY = constants.MAX_STRING_LENGTH;

export function publishBodyLimit(config: NpmFormatConfig): number {
  const configured = config.max_publish_body_size || Math.ceil((fileSizeLimit(config) * 4) / 3) + MiB;
  return Math.min(configured, MAX_PARSABLE_BODY);
}
