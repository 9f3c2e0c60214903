import { constants } from 'node:buffer';

import { BooleanSetting, fileSizeLimit, FormatConfig, IntegerSetting } from '@stowage/core';
import { IsUrl } from 'class-validator';

const MiB = 1024 ** 2;

export class NpmFormatConfig extends FormatConfig {
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
   * GitLab's `npm_package_requests_forwarding`: a packument nobody in scope publishes is
   * answered with a redirect to `forward_url` (and audits with a 307 there). Off by default
   * here, unlike GitLab, so that a private registry never sends names outside unasked.
   */
  @BooleanSetting() package_requests_forwarding = false;
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }) forward_url = 'https://registry.npmjs.org';
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
