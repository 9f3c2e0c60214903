import { defineFormatPlugin } from '@stowage/core';

import { NugetFormatConfig } from './nuget.config';
import { NugetFormatModule } from './nuget.module';
import { normalizeName, normalizeVersion, NUGET } from './nuget.naming';
import { nugetPackageOverview } from './nuget.overview';

export { NugetFormatConfig, NugetFormatModule };

/**
 * NuGet packages at GitLab's URLs: the v3 feed (service index, registration, flat container,
 * search, push, symbol push, delete) per project and for groups, and the v2 OData feed for
 * NuGet 2.x. Ids compare case-insensitively, versions by NuGet's normalized form; duplicates
 * are allowed by default, as in GitLab.
 */
export const nugetFormat = defineFormatPlugin({
  name: NUGET,
  module: NugetFormatModule,
  config: NugetFormatConfig,
  normalizeName,
  normalizeVersion,
  duplicatesAllowedByDefault: true,
  // `nuget push -ApiKey <token>`: any token kind, as GitLab accepts it.
  credentialHeaders: ['x-nuget-apikey'],
  packageOverview: nugetPackageOverview,
});
