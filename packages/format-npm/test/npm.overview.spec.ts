import type { Package } from '@stowage/core';
import { HOSTILE_TEXT, overviewContext, packageRow } from '@stowage/testkit';

import { MAX_README_CHARS, publishedReadme, storedManifest } from '../src/npm.manifest';
import { NPM } from '../src/npm.naming';
import { npmPackageOverview } from '../src/npm.overview';

const context = overviewContext();

/** A version as `npm publish` stores it: the manifest through storedManifest. */
function published(manifest: Record<string, unknown>): Package {
  const metadata = storedManifest({ name: '@acme/greeter', version: '1.2.3', ...manifest });
  return packageRow({ package_type: NPM, name: metadata.name, version: metadata.version, metadata });
}

describe('npm package overview', () => {
  it('shows the README publishedReadme kept, from the manifest or the top of the body, cut at 64 KiB', () => {
    const manifest = { name: '@acme/greeter', version: '1.2.3', readme: `# Greeter\n\n${HOSTILE_TEXT}` };
    const withReadme = (readme: string | undefined) => Object.assign(published({}), { metadata: { ...published({}).metadata, readme } });
    expect(npmPackageOverview(withReadme(publishedReadme({}, manifest)), context).readme).toBe(`# Greeter\n\n${HOSTILE_TEXT}`);
    expect(publishedReadme({ readme: 'top' }, { name: 'x' })).toBe('top');
    expect(publishedReadme({ readme: '  ' }, { readme: 42 })).toBeUndefined();
    expect(publishedReadme({}, { readme: 'x'.repeat(MAX_README_CHARS + 10) })).toHaveLength(MAX_README_CHARS);
  });

  it('shows the stored package.json facts and every dependency kind; storedManifest drops the readme', () => {
    const overview = npmPackageOverview(
      published({
        description: 'Says hello',
        license: 'MIT',
        homepage: 'https://acme.example/greeter',
        repository: { type: 'git', url: 'git+https://git.example/acme/greeter.git', directory: 'packages/greeter' },
        author: { name: 'Ada', email: 'ada@acme.example', url: 'https://ada.example' },
        engines: { node: '>=20' },
        readme: '# Greeter',
        dependencies: { lodash: '^4.17.21', broken: 42 },
        devDependencies: { jest: '30.0.0' },
        peerDependencies: { react: '>=18' },
        optionalDependencies: { fsevents: '*' },
      }),
      context,
    );
    expect(overview.metadata).toEqual([
      { label: 'Description', value: 'Says hello' },
      { label: 'License', value: 'MIT' },
      { label: 'Homepage', value: 'https://acme.example/greeter' },
      { label: 'Repository', value: 'git+https://git.example/acme/greeter.git (packages/greeter)' },
      { label: 'Author', value: 'Ada <ada@acme.example> (https://ada.example)' },
      { label: 'Node.js', value: '>=20' },
    ]);
    expect(overview.dependencies).toEqual([
      { name: 'lodash', requirement: '^4.17.21', kind: 'dependencies' },
      { name: 'jest', requirement: '30.0.0', kind: 'devDependencies' },
      { name: 'react', requirement: '>=18', kind: 'peer' },
      { name: 'fsevents', requirement: '*', kind: 'optional' },
    ]);
    expect(overview.readme).toBeNull();
  });

  it('reads the string forms of author and repository and the legacy license object', () => {
    const overview = npmPackageOverview(
      published({ author: 'Ada <ada@acme.example>', repository: 'github:acme/greeter', license: { type: 'ISC' } }),
      context,
    );
    expect(overview.metadata).toEqual([
      { label: 'License', value: 'ISC' },
      { label: 'Repository', value: 'github:acme/greeter' },
      { label: 'Author', value: 'Ada <ada@acme.example>' },
    ]);
  });

  it("gives a scoped name the scope's registry line, the token keyed on the project URL, and the install", () => {
    const overview = npmPackageOverview(published({}), { ...context, baseUrl: 'http://stowage.example.com:8080/registry' });
    expect(overview.instructions).toEqual([
      {
        title: '.npmrc: the @acme scope from this project',
        language: 'ini',
        code:
          '@acme:registry=http://stowage.example.com:8080/registry/api/v4/projects/42/packages/npm/\n' +
          '//stowage.example.com:8080/registry/api/v4/projects/42/packages/npm/:_authToken=<your_token>',
      },
      { title: 'Install', language: 'shell', code: 'npm install @acme/greeter@1.2.3' },
    ]);
  });

  it('gives an unscoped name the registry line without a scope', () => {
    const pkg = published({});
    Object.assign(pkg, { name: 'greeter', metadata: { ...pkg.metadata, name: 'greeter' } });
    const [npmrc, install] = npmPackageOverview(pkg, context).instructions;
    expect(npmrc.code.split('\n')[0]).toBe('registry=https://stowage.example.com/api/v4/projects/42/packages/npm/');
    expect(install.code).toBe('npm install greeter@1.2.3');
  });

  it('returns hostile text as it is, and no command for a name npm would refuse', () => {
    const overview = npmPackageOverview(published({ description: HOSTILE_TEXT, author: { name: HOSTILE_TEXT } }), context);
    expect(overview.metadata).toEqual([
      { label: 'Description', value: HOSTILE_TEXT },
      { label: 'Author', value: HOSTILE_TEXT },
    ]);
    const hostile = Object.assign(published({}), { name: `@acme/x$(rm -rf /)` });
    expect(npmPackageOverview(hostile, context).instructions).toEqual([]);
    expect(npmPackageOverview(Object.assign(published({}), { version: '1.0.0;id' }), context).instructions).toEqual([]);
  });
});
