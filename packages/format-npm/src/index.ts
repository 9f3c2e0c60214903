import { defineFormatPlugin } from '@stowage/core';

import { NpmFormatConfig } from './npm.config';
import { NpmFormatModule } from './npm.module';
import { NPM } from './npm.naming';
import { npmPackageOverview } from './npm.overview';

export { NpmFormatConfig, NpmFormatModule };

/** GitLab's npm registry: publish and install with npm, pnpm and yarn. A version is never republished. */
export const npmFormat = defineFormatPlugin({
  name: NPM,
  module: NpmFormatModule,
  config: NpmFormatConfig,
  duplicatesAllowedByDefault: false,
  packageOverview: npmPackageOverview,
});
