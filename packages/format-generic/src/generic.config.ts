import { FormatConfig } from '@stowage/core';

export class GenericFormatConfig extends FormatConfig {
  /** GitLab's `generic_packages_max_file_size`: bytes per file, 0 for no limit (default 5 GiB). */
  override max_file_size = 5 * 1024 ** 3;
}
