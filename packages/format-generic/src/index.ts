import { defineFormatPlugin } from '@stowage/core';

import { GenericFormatConfig } from './generic.config';
import { GenericFormatModule } from './generic.module';
import { GENERIC } from './generic.naming';
import { genericPackageOverview } from './generic.overview';

export { GenericFormatConfig, GenericFormatModule };

/** GitLab's generic packages: any file under a name and version. Duplicates allowed by default, as in GitLab. */
export const genericFormat = defineFormatPlugin({
  name: GENERIC,
  module: GenericFormatModule,
  config: GenericFormatConfig,
  duplicatesAllowedByDefault: true,
  packageOverview: genericPackageOverview,
});
