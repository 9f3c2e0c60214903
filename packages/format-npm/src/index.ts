import { defineFormatPlugin } from '@stowage/core';

import { NpmFormatConfig } from './npm.config';
import { NpmFormatModule } from './npm.module';

export { NpmFormatConfig, NpmFormatModule };

/** GitLab's npm registry: publish and install with npm, pnpm and yarn. A version is never republished. */
export const npmFormat = defineFormatPlugin({
  name: 'npm',
  module: NpmFormatModule,
  config: NpmFormatConfig,
  duplicatesAllowedByDefault: false,
});
