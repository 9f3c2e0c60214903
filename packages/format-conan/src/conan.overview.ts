import { type Package, type PackageOverview, type PackageOverviewContext, unlessThrows } from '@stowage/core';

import { recipeRef, refFromPackage, refString } from './conan.naming';

/**
 * The package page of a Conan recipe: its full reference (the package row's name and
 * `version@user/channel`). Revisions, binaries and their requirements are kept per file,
 * which the hook does not see, so they are not shown here. The set-up is the remote GitLab
 * documents, with the Conan 2 commands the recorded sessions use and Conan 1's install.
 */
export function conanPackageOverview(pkg: Package, context: PackageOverviewContext): PackageOverview {
  // The reference of the row, if it passes the rule every upload passed (letters, digits and `_+.-`).
  const ref = unlessThrows(() => recipeRef(refFromPackage(pkg)));
  return {
    metadata: ref ? [{ label: 'Reference', value: refString(ref) }] : [],
    dependencies: [],
    readme: null,
    instructions: ref ? instructions(refString(ref), context) : [],
  };
}

function instructions(ref: string, { baseUrl, project }: PackageOverviewContext): PackageOverview['instructions'] {
  const remote = `${baseUrl}/api/v4/projects/${project.id}/packages/conan`;
  return [
    {
      title: 'Add the remote and log in',
      language: 'shell',
      code: `conan remote add stowage ${remote}\nconan remote login stowage <your_username> -p <your_token>`,
    },
    { title: 'Install (Conan 2)', language: 'shell', code: `conan install --requires=${ref} -r stowage` },
    {
      title: 'Install (Conan 1)',
      language: 'shell',
      code: `conan user <your_username> -r stowage -p <your_token>\nconan install ${ref} -r stowage`,
    },
  ];
}
