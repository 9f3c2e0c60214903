import { FormatConfig, IntegerSetting } from '@stowage/core';

export class ComposerFormatConfig extends FormatConfig {
  /** Bytes per uploaded archive, 0 for no limit (default 100 MiB); GitLab builds archives from git and has no such limit. */
  override max_file_size = 100 * 1024 * 1024;
  /** Bytes all entries of an archive may unpack to, as its zip directory declares them (default 1 GiB). */
  @IntegerSetting({ min: 1 }) max_unpacked_size = 1024 ** 3;
}
