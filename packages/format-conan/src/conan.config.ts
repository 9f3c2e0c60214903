import { FormatConfig, IntegerSetting } from '@stowage/core';

export class ConanFormatConfig extends FormatConfig {
  /** GitLab's plan limit `conan_max_file_size`: bytes per file, 0 for no limit (default 3 GiB). */
  override max_file_size = 3 * 1024 ** 3;
  /**
   * Bytes one of the .tgz files (conan_package, conan_export, conan_sources) may expand to: each
   * is read through as it is uploaded, every entry checked, and one that expands further is
   * refused (tar-bomb guard; default 8 GiB).
   */
  @IntegerSetting({ min: 1024 }) max_unpacked_size = 8 * 1024 ** 3;
  /** Lifetime in seconds of the bearer token `users/authenticate` hands to the client (at most a week). */
  @IntegerSetting({ min: 1, max: 7 * 24 * 60 * 60 }) token_lifetime = 24 * 60 * 60;
  /** Bearer tokens one credential may hold at once (one per login); past it, the oldest are removed. */
  @IntegerSetting({ min: 1 }) max_live_tokens = 100;
}
