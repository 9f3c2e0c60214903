import {
  dependencyRows,
  isJsonObject,
  jsonString,
  metadataRows,
  type Package,
  type PackageOverview,
  type PackageOverviewContext,
  unlessThrows,
} from '@stowage/core';

import { isValidName, packageVersion } from './composer.naming';

/** composer.json's link maps, by the `kind` the package page groups them under. */
const LINKS: [field: string, kind: string][] = [
  ['require', 'dependencies'],
  ['require-dev', 'devDependencies'],
];

/** `"MIT"` or `["MIT", "GPL-3.0-or-later"]`; a list of `{ name }` for authors. */
function joined(value: unknown, pick: (item: unknown) => unknown = (item) => item): string | undefined {
  const items = (Array.isArray(value) ? value : [value]).flatMap((item) => jsonString(pick(item)) ?? []);
  return items.length ? items.join(', ') : undefined;
}

const authorName = (author: unknown) => (isJsonObject(author) ? author.name : undefined);

/**
 * The package page of a Composer version, from its stored composer.json: type, description,
 * license, homepage and authors, `require` and `require-dev`. composer.json's `readme` names a
 * file in the archive, so there is no README text. Composer reads packages through a group's
 * repository only (the top-level group's, as GitLab documents), so without one there is no set-up.
 */
export function composerPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  const composerJson = pkg.metadata ?? {};
  const facts: [string, string | undefined][] = [
    ['Type', joined(composerJson.type)],
    ['Description', joined(composerJson.description)],
    ['License', joined(composerJson.license)],
    ['Homepage', joined(composerJson.homepage)],
    ['Authors', joined(composerJson.authors, authorName)],
  ];
  // Names (`vendor/name`, lower case) and versions (SemVer, `dev-<branch>`) were validated at
  // upload: nothing a shell reads specially. One that is not gets no command.
  const valid = isValidName(pkg.name) && unlessThrows(() => packageVersion(pkg.version, 'version')) === pkg.version;
  return {
    metadata: metadataRows(facts),
    dependencies: LINKS.flatMap(([field, kind]) => dependencyRows(composerJson[field], kind)),
    readme: null,
    instructions: valid ? instructions(pkg, context) : [],
  };
}

function instructions(pkg: Package, { baseUrl, rootGroup }: PackageOverviewContext): PackageOverview['instructions'] {
  if (!rootGroup) {
    return [
      {
        title: 'No Composer repository',
        language: 'text',
        code: "Composer installs from a group's repository; this project is in a user namespace, which has none.",
      },
    ];
  }
  const host = new URL(baseUrl).host;
  const repository = `${baseUrl}/api/v4/group/${rootGroup.id}/-/packages/composer/packages.json`;
  return [
    {
      title: `Add the ${rootGroup.full_path} group's repository`,
      language: 'shell',
      code: [
        `composer config repositories.stowage composer ${repository}`,
        `composer config gitlab-domains ${host}`,
        `composer config gitlab-token.${host} <your_token>`,
      ].join('\n'),
    },
    {
      title: 'Or in composer.json',
      language: 'json',
      code: JSON.stringify({ repositories: [{ type: 'composer', url: repository }] }, null, 2),
    },
    { title: 'Install', language: 'shell', code: `composer require ${pkg.name}:${pkg.version}` },
  ];
}
