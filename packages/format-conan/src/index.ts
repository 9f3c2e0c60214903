import { defineFormatPlugin } from '@stowage/core';

import { ConanFormatConfig } from './conan.config';
import { ConanFormatModule } from './conan.module';
import { CONAN } from './conan.naming';
import { conanPackageOverview } from './conan.overview';

export { ConanFormatConfig, ConanFormatModule };

/**
 * GitLab's Conan repository: the v1 API at project and instance scope, the v2 (revisions) API
 * at project scope. A package is one recipe `name/version@user/channel` (version stored as
 * `version@user/channel`); each file records its kind and revisions. Duplicates allowed, as in GitLab.
 */
export const conanFormat = defineFormatPlugin({
  name: CONAN,
  module: ConanFormatModule,
  config: ConanFormatConfig,
  duplicatesAllowedByDefault: true,
  packageOverview: conanPackageOverview,
});
