import { FormatConfig, IntegerSetting } from '@stowage/core';
import { MAX_ZIP_FILE } from './go.module-zip';

export class GoFormatConfig extends FormatConfig {
  /**
   * GitLab's `golang_max_file_size`: bytes per uploaded module zip (default 100 MiB). The go
   * command refuses zips over 500 MiB, so that is the most this may be.
   */
  @IntegerSetting({ min: 1, max: MAX_ZIP_FILE }) max_file_size = 100 * 1024 * 1024;
}
