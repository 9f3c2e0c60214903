import { defineFormatPlugin } from '@stowage/core';

import { PypiFormatConfig } from './pypi.config';
import { pypiPackageDetails } from './pypi.details';
import { PypiFormatModule } from './pypi.module';
import { canonicalVersion, normalizePypiName, PYPI } from './pypi.naming';
import { pypiPackageOverview } from './pypi.overview';

export { PypiFormatConfig, PypiFormatModule };
export { canonicalVersion, compareVersions, normalizePypiName, parseDistFilename, parseVersion } from './pypi.naming';

/**
 * GitLab's PyPI registry: twine uploads, the PEP 503 simple index (and PEP 691 JSON, PEP 658
 * metadata) at project and group level. Names compare by PEP 503, versions by PEP 440
 * (`1.0` = `1.0.0`). A file name already in a version is always refused, as in GitLab.
 * With `package_requests_forwarding`, names nobody in scope holds come from the upstream index
 * (redirected, or cached and verified: PypiRemote).
 */
export const pypiFormat = defineFormatPlugin({
  name: PYPI,
  module: PypiFormatModule,
  config: PypiFormatConfig,
  normalizeName: normalizePypiName,
  normalizeVersion: canonicalVersion,
  duplicatesAllowedByDefault: false,
  packageDetails: pypiPackageDetails,
  packageOverview: pypiPackageOverview,
});
