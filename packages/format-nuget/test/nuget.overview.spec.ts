import { escapeXml, type Package } from '@stowage/core';
import { HOSTILE_TEXT, overviewContext, packageRow } from '@stowage/testkit';

import { NUGET } from '../src/nuget.naming';
import { parseNuspec } from '../src/nuget.nuspec';
import { nugetPackageOverview } from '../src/nuget.overview';
import type { NugetPackageMetadata } from '../src/nuget.upload';
import { nuspecXml } from './nuget.fixtures';

const context = overviewContext();

/** The row a push of this nuspec leaves: the nuspec's fields but its id and version, as NugetUploads stores them. */
async function pushed(extra: string, opts: { description?: string } = {}): Promise<Package> {
  const { id, version, ...metadata } = await parseNuspec(nuspecXml('Acme.Greeter', '1.2.3-beta.1', extra, opts));
  const stored: NugetPackageMetadata = metadata;
  return packageRow({ package_type: NUGET, name: id, version, metadata: stored });
}

describe('NuGet package overview', () => {
  it('shows the kept nuspec fields and each dependency under its target framework', async () => {
    const pkg = await pushed(
      '<title>Greeter</title><projectUrl>https://acme.example/greeter</projectUrl><licenseUrl>https://acme.example/license</licenseUrl>' +
        '<tags>hello greeting</tags><packageTypes><packageType name="Dependency" /></packageTypes>' +
        '<dependencies><dependency id="Common" version="1.0" />' +
        '<group targetFramework="net8.0"><dependency id="Newtonsoft.Json" version="[13.0,14.0)" /><dependency id="Loose" /></group></dependencies>',
    );
    const overview = nugetPackageOverview(pkg, context);
    expect(overview.metadata).toEqual([
      { label: 'Title', value: 'Greeter' },
      { label: 'Description', value: 'A package' },
      { label: 'Authors', value: 'Tester' },
      { label: 'Project URL', value: 'https://acme.example/greeter' },
      { label: 'License URL', value: 'https://acme.example/license' },
      { label: 'Tags', value: 'hello greeting' },
      { label: 'Package types', value: 'Dependency' },
    ]);
    expect(overview.dependencies).toEqual([
      { name: 'Common', requirement: '1.0', kind: 'dependencies' },
      { name: 'Newtonsoft.Json', requirement: '[13.0,14.0)', kind: 'net8.0' },
      { name: 'Loose', requirement: '', kind: 'net8.0' },
    ]);
    expect(overview.readme).toBeNull();
  });

  it("gives the source with the project's v3 index, nuget.config, and the install", async () => {
    const instructions = nugetPackageOverview(await pushed(''), {
      ...context,
      baseUrl: 'http://stowage.example.com:8080/registry',
    }).instructions;
    const index = 'http://stowage.example.com:8080/registry/api/v4/projects/42/packages/nuget/index.json';
    expect(instructions.map((i) => i.code)).toEqual([
      `dotnet nuget add source "${index}" --name stowage --username any --password <your_token> --store-password-in-clear-text`,
      expect.stringContaining(`<add key="stowage" value="${index}" />`),
      'dotnet add package Acme.Greeter --version 1.2.3-beta.1',
      'nuget install Acme.Greeter -Version 1.2.3-beta.1 -Source stowage',
    ]);
    expect(instructions[1].code).toContain('<add key="ClearTextPassword" value="<your_token>" />');
  });

  it('returns hostile text as it is, and no command for an id NuGet refuses', async () => {
    const pkg = await pushed('', { description: escapeXml(HOSTILE_TEXT) });
    expect(nugetPackageOverview(pkg, context).metadata).toContainEqual({ label: 'Description', value: HOSTILE_TEXT });
    expect(nugetPackageOverview(Object.assign(pkg, { name: `x$(rm -rf /)` }), context).instructions).toEqual([]);
  });
});
