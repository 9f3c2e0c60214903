import { defineFormatPlugin } from '@stowage/core';
import { PypiFormatConfig } from './pypi.config';
import { PypiFormatModule } from './pypi.module';
import { canonicalVersion, normalizePypiName, PYPI } from './pypi.naming';
import { pypiPackageDetails } from './pypi.details';

export { PypiFormatConfig, PypiFormatModule };
export { normalizePypiName, canonicalVersion, compareVersions, parseVersion, parseDistFilename } from './pypi.naming';

/**
 * GitLab's PyPI registry: twine uploads, the PEP 503 simple index (and PEP 691 JSON, PEP 658
 * metadata) at project and group level. Names compare by PEP 503, versions by PEP 440
 * (`1.0` = `1.0.0`). A file name already in a version is always refused, as in GitLab.
 */
export const pypiFormat = defineFormatPlugin({
  name: PYPI,
  module: PypiFormatModule,
  config: PypiFormatConfig,
  normalizeName: normalizePypiName,
  normalizeVersion: canonicalVersion,
  duplicatesAllowedByDefault: false,
  packageDetails: pypiPackageDetails,
});
