import type { Package } from '@stowage/core';
import { overviewContext, packageRow } from '@stowage/testkit';

import { CONAN, packageVersion, recipeRef } from '../src/conan.naming';
import { conanPackageOverview } from '../src/conan.overview';

const context = overviewContext();

/** The row an upload of this reference's files creates (ConanUploads: name, `version@user/channel`, user and channel). */
function recipe(params: { name: string; version: string; user: string; channel: string }): Package {
  const ref = recipeRef(params);
  const metadata = { package_username: ref.user, package_channel: ref.channel, conan_version: ref.version };
  return packageRow({ package_type: CONAN, name: ref.name, version: packageVersion(ref), metadata });
}

describe('Conan package overview', () => {
  it('shows the full reference and gives the remote, the login and the install with it', () => {
    const overview = conanPackageOverview(recipe({ name: 'hello', version: '0.1', user: 'demo', channel: 'stable' }), {
      ...context,
      baseUrl: 'http://stowage.example.com:8080/registry',
    });
    expect(overview).toEqual({
      metadata: [{ label: 'Reference', value: 'hello/0.1@demo/stable' }],
      dependencies: [],
      readme: null,
      instructions: [
        {
          title: 'Add the remote and log in',
          language: 'shell',
          code:
            'conan remote add stowage http://stowage.example.com:8080/registry/api/v4/projects/42/packages/conan\n' +
            'conan remote login stowage <your_username> -p <your_token>',
        },
        { title: 'Install (Conan 2)', language: 'shell', code: 'conan install --requires=hello/0.1@demo/stable -r stowage' },
        {
          title: 'Install (Conan 1)',
          language: 'shell',
          code: 'conan user <your_username> -r stowage -p <your_token>\nconan install hello/0.1@demo/stable -r stowage',
        },
      ],
    });
  });

  it('writes a reference without user and channel as Conan prints it', () => {
    const overview = conanPackageOverview(recipe({ name: 'zlib', version: '1.3.1', user: '_', channel: '_' }), context);
    expect(overview.metadata).toEqual([{ label: 'Reference', value: 'zlib/1.3.1' }]);
    expect(overview.instructions[1].code).toBe('conan install --requires=zlib/1.3.1 -r stowage');
  });

  it('shows nothing and gives no command for a reference Conan refuses', () => {
    const pkg = Object.assign(recipe({ name: 'hello', version: '0.1', user: 'demo', channel: 'stable' }), { name: '$(rm -rf ~)<script>' });
    expect(conanPackageOverview(pkg, context)).toEqual({ metadata: [], dependencies: [], readme: null, instructions: [] });
  });
});
