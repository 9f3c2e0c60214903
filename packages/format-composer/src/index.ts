import { defineFormatPlugin } from '@stowage/core';

import { ComposerFormatConfig } from './composer.config';
import { ComposerFormatModule } from './composer.module';
import { COMPOSER } from './composer.naming';
import { composerPackageOverview } from './composer.overview';

export { ComposerFormatConfig, ComposerFormatModule };

/**
 * Composer packages, published as archives and read through GitLab's group-level Composer
 * repository. Names are lower case; a re-upload of a version replaces it, as in GitLab,
 * unless the project's duplicate setting forbids it.
 */
export const composerFormat = defineFormatPlugin({
  name: COMPOSER,
  module: ComposerFormatModule,
  config: ComposerFormatConfig,
  normalizeName: (n) => n.toLowerCase(),
  duplicatesAllowedByDefault: true,
  packageOverview: composerPackageOverview,
});
