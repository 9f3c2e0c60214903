import { FormatConfig, IntegerSetting } from '@stowage/core';

export class ConanFormatConfig extends FormatConfig {
  /** GitLab's plan limit `conan_max_file_size`: bytes per file, 0 for no limit (default 3 GiB). */
  @IntegerSetting({ min: 0 }) max_file_size = 3 * 1024 ** 3;
  /**
   * Bytes one of the .tgz files (conan_package, conan_export, conan_sources) may expand to: each
   * is read through as it is uploaded, every entry checked, and one that expands further is
   * refused (tar-bomb guard; default 8 GiB).
   */
  @IntegerSetting({ min: 1024 }) max_unpacked_size = 8 * 1024 ** 3;
  /** Lifetime in seconds of the bearer token `users/authenticate` hands to the client. */
  @IntegerSetting({ min: 1 }) token_lifetime = 24 * 60 * 60;
}
