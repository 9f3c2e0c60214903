import { FormatConfig, IntegerSetting } from '@stowage/core';

import { DEFAULT_MAX_ZIP_ENTRIES, MAX_ZIP_FILE } from './go.module-zip';

export class GoFormatConfig extends FormatConfig {
  /**
   * GitLab's `golang_max_file_size`: bytes per uploaded module zip (default 100 MiB). The go
   * command refuses zips over 500 MiB, so that is the most this may be, and what 0 (no limit
   * of our own) means.
   */
  @IntegerSetting({ min: 0, max: MAX_ZIP_FILE }) override max_file_size = 100 * 1024 * 1024;
  /**
   * Entries (files and directories) per uploaded module zip (default 200,000). The go command
   * sets no count; this bounds the CPU and memory one upload may cost. Raise it for a module
   * with more files: each 100,000 entries cost about half a second of CPU to check.
   */
  @IntegerSetting({ min: 1 }) max_zip_entries = DEFAULT_MAX_ZIP_ENTRIES;
}
