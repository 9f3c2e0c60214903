import type { Package } from '@stowage/core';
import { HOSTILE_TEXT, overviewContext, packageRow } from '@stowage/testkit';

import { COMPOSER } from '../src/composer.naming';
import { composerPackageOverview } from '../src/composer.overview';
import { manifestOf } from '../src/composer.upload';

const context = overviewContext({ rootGroup: { id: 7, full_path: 'acme' } });

/** The row an upload of this composer.json creates: the manifest as the metadata. */
function uploaded(composerJson: Record<string, unknown>, version = '1.2.3'): Package {
  const manifest = manifestOf(JSON.stringify({ name: 'acme/greeter', ...composerJson }));
  return packageRow({ package_type: COMPOSER, name: manifest.name, version, metadata: manifest.composerJson });
}

describe('Composer package overview', () => {
  it('shows the composer.json facts and its require and require-dev links', () => {
    const overview = composerPackageOverview(
      uploaded({
        type: 'library',
        description: 'Says hello',
        license: ['MIT', 'GPL-3.0-or-later'],
        homepage: 'https://acme.example/greeter',
        authors: [{ name: 'Ada', email: 'ada@acme.example' }, { name: 'Grace' }],
        readme: 'README.md',
        require: { php: '>=8.1', 'psr/log': '^3.0' },
        'require-dev': { 'phpunit/phpunit': '^11' },
      }),
      context,
    );
    expect(overview.metadata).toEqual([
      { label: 'Type', value: 'library' },
      { label: 'Description', value: 'Says hello' },
      { label: 'License', value: 'MIT, GPL-3.0-or-later' },
      { label: 'Homepage', value: 'https://acme.example/greeter' },
      { label: 'Authors', value: 'Ada, Grace' },
    ]);
    expect(overview.dependencies).toEqual([
      { name: 'php', requirement: '>=8.1', kind: 'dependencies' },
      { name: 'psr/log', requirement: '^3.0', kind: 'dependencies' },
      { name: 'phpunit/phpunit', requirement: '^11', kind: 'devDependencies' },
    ]);
    expect(overview.readme).toBeNull();
  });

  it("gives the top-level group's repository, the token for the host, and the require", () => {
    const overview = composerPackageOverview(uploaded({}, 'dev-feature/x'), {
      ...context,
      baseUrl: 'http://stowage.example.com:8080/registry',
    });
    const repository = 'http://stowage.example.com:8080/registry/api/v4/group/7/-/packages/composer/packages.json';
    expect(overview.instructions).toEqual([
      {
        title: "Add the acme group's repository",
        language: 'shell',
        code:
          `composer config repositories.stowage composer ${repository}\n` +
          'composer config gitlab-domains stowage.example.com:8080\n' +
          'composer config gitlab-token.stowage.example.com:8080 <your_token>',
      },
      {
        title: 'Or in composer.json',
        language: 'json',
        code: JSON.stringify({ repositories: [{ type: 'composer', url: repository }] }, null, 2),
      },
      { title: 'Install', language: 'shell', code: 'composer require acme/greeter:dev-feature/x' },
    ]);
  });

  it('says there is no repository for a project in a user namespace', () => {
    const [note, ...rest] = composerPackageOverview(uploaded({}), { ...context, rootGroup: null }).instructions;
    expect(note.language).toBe('text');
    expect(rest).toEqual([]);
  });

  it('returns hostile text as it is, and no command for a name or version Composer refuses', () => {
    const pkg = uploaded({ description: HOSTILE_TEXT, license: HOSTILE_TEXT, authors: [{ name: HOSTILE_TEXT }] });
    expect(composerPackageOverview(pkg, context).metadata).toEqual([
      { label: 'Description', value: HOSTILE_TEXT },
      { label: 'License', value: HOSTILE_TEXT },
      { label: 'Authors', value: HOSTILE_TEXT },
    ]);
    expect(composerPackageOverview(Object.assign(uploaded({}), { name: 'acme/x$(rm -rf ~)' }), context).instructions).toEqual([]);
    expect(composerPackageOverview(uploaded({}, "1.0.0';id"), context).instructions).toEqual([]);
  });
});
