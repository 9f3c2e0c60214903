import { BooleanSetting, FormatConfig, IntegerSetting } from '@stowage/core';

export class NugetFormatConfig extends FormatConfig {
  /** GitLab's `nuget_max_file_size`: bytes per .nupkg/.snupkg, 0 for no limit (default 500 MiB). */
  override max_file_size = 524_288_000;
  /** Versions a registration index inlines; more are split into pages of this many, linked by `@id`. */
  @IntegerSetting({ min: 1, max: 10_000 }) registration_page_size = 128;
  /** GitLab's `nuget_symbol_server_enabled`: serve PDBs of symbol packages at `symbolfiles/`. */
  @BooleanSetting() symbol_server_enabled = true;
}
