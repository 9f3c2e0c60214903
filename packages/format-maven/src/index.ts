import { defineFormatPlugin } from '@stowage/core';

import { MavenFormatConfig } from './maven.config';
import { MavenFormatModule } from './maven.module';
import { MAVEN } from './maven.naming';
import { mavenPackageOverview } from './maven.overview';

export { MavenFormatConfig, MavenFormatModule };

/**
 * GitLab's Maven repository: project, group and instance endpoints.
 * Duplicates allowed by default, as in GitLab; SNAPSHOTs always republishable.
 */
export const mavenFormat = defineFormatPlugin({
  name: MAVEN,
  module: MavenFormatModule,
  config: MavenFormatConfig,
  duplicatesAllowedByDefault: true,
  packageOverview: mavenPackageOverview,
});
