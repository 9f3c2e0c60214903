import { type Package, type PackageOverview, type PackageOverviewContext, unlessThrows } from '@stowage/core';

import { genericTarget } from './generic.naming';

/** The package page lists download commands for this many files at most. */
export const MAX_DOWNLOAD_COMMANDS = 5;

/**
 * A file's path as it is downloaded (the stored name is URI-encoded when it has directories),
 * if the package's name, version and that path pass the rule every upload passed: letters,
 * digits and `._+~@-` only, so nothing a shell reads specially.
 */
function downloadPath(pkg: Package, fileName: string): string | undefined {
  return unlessThrows(() => {
    const path = decodeURIComponent(fileName);
    genericTarget({ package_name: pkg.name, package_version: pkg.version, path });
    return path;
  });
}

/**
 * The package page of a generic package: nothing beyond what core shows (the format keeps no
 * metadata), and a `curl` download command per file, as GitLab documents them.
 */
export function genericPackageOverview(pkg: Package, { baseUrl, project, files }: PackageOverviewContext): PackageOverview {
  const paths = [...new Set(files.map((f) => downloadPath(pkg, f.file_name)))].filter((p): p is string => p !== undefined);
  const base = `${baseUrl}/api/v4/projects/${project.id}/packages/generic/${pkg.name}/${pkg.version}`;
  return {
    metadata: [],
    dependencies: [],
    readme: null,
    instructions: paths.slice(0, MAX_DOWNLOAD_COMMANDS).map((path) => ({
      title: `Download ${path}`,
      language: 'shell',
      code: `curl --header "PRIVATE-TOKEN: <your_token>" -O ${base}/${path}`,
    })),
  };
}
