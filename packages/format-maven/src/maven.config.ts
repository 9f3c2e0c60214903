import { FormatConfig, IntegerSetting } from '@stowage/core';

export class MavenFormatConfig extends FormatConfig {
  /** GitLab's `maven_max_file_size`: bytes per file, 0 for no limit (default 3 GiB). */
  override max_file_size = 3 * 1024 ** 3;
  /** Largest maven-metadata.xml or POM read back for validation, in bytes. */
  @IntegerSetting({ min: 1024 }) max_metadata_size = 10 * 1024 ** 2;
}
