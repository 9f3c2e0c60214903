import { defineFormatPlugin } from '@stowage/core';

import { GoFormatConfig } from './go.config';
import { GoFormatModule } from './go.module';
import { GO } from './go.naming';
import { goPackageOverview } from './go.overview';

export { GoFormatConfig, GoFormatModule };

/**
 * The Go module proxy (GOPROXY protocol) at GitLab's project path, with publishing by zip
 * upload. Module paths and versions are case-sensitive, so both are compared as written;
 * a published version is never replaced (go.sum checksums are forever).
 */
export const goFormat = defineFormatPlugin({
  name: GO,
  module: GoFormatModule,
  config: GoFormatConfig,
  duplicatesAllowedByDefault: false,
  packageOverview: goPackageOverview,
});
