import { type Package, type PackageOverview, type PackageOverviewContext, passes } from '@stowage/core';

import { checkModulePath, checkModuleVersion } from './go.naming';

/** Whether a package row names a module path and version the go command accepts (`[A-Za-z0-9._~/-]`, SemVer). */
function validModule(pkg: Package): boolean {
  return passes(() => {
    checkModulePath(pkg.name);
    checkModuleVersion(pkg.name, pkg.version);
  });
}

/**
 * The package page of a Go module version: its path and version (the upload stores no
 * metadata; go.mod is a file, so its requirements are not read here). The set-up is the
 * format README's: the project's proxy first in GOPROXY, the path kept away from the checksum
 * database, the token in ~/.netrc.
 */
export function goPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  return {
    metadata: [
      { label: 'Module path', value: pkg.name },
      { label: 'Version', value: pkg.version },
    ],
    dependencies: [],
    readme: null,
    instructions: validModule(pkg) ? instructions(pkg, context) : [],
  };
}

function instructions(pkg: Package, { baseUrl, project }: PackageOverviewContext): PackageOverview['instructions'] {
  const proxy = `${baseUrl}/api/v4/projects/${project.id}/packages/go`;
  return [
    {
      title: 'Point go at this project',
      language: 'shell',
      code: [
        `export GOPROXY=${proxy},https://proxy.golang.org,direct`,
        `export GONOSUMDB=${pkg.name}`,
        `printf 'machine ${new URL(baseUrl).hostname} login <your_username> password <your_token>\\n' >> ~/.netrc`,
      ].join('\n'),
    },
    { title: 'Install', language: 'shell', code: `go get ${pkg.name}@${pkg.version}` },
  ];
}
