import { FormatConfig, IntegerSetting } from '@stowage/core';

export class ConanFormatConfig extends FormatConfig {
  /** GitLab's plan limit `conan_max_file_size`: bytes per file, 0 for no limit (default 3 GiB). */
  @IntegerSetting({ min: 0 }) max_file_size = 3 * 1024 ** 3;
  /** Lifetime in seconds of the bearer token `users/authenticate` hands to the client. */
  @IntegerSetting({ min: 1 }) token_lifetime = 24 * 60 * 60;
}
