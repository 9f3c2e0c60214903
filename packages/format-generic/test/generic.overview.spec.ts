import type { Package, PackageOverviewContext } from '@stowage/core';
import { overviewContext, packageRow } from '@stowage/testkit';

import { GENERIC, genericTarget } from '../src/generic.naming';
import { genericPackageOverview, MAX_DOWNLOAD_COMMANDS } from '../src/generic.overview';

/** The package and file rows uploads to these paths create (file names as GenericUploads stores them). */
function uploaded(name: string, version: string, paths: string[]): { pkg: Package; context: PackageOverviewContext } {
  const files = paths.map((path, i) => ({
    id: i + 1,
    file_name: genericTarget({ package_name: name, package_version: version, path }).fileName,
    size: 1,
  }));
  return {
    pkg: packageRow({ package_type: GENERIC, name, version }),
    context: overviewContext({ files }),
  };
}

describe('generic package overview', () => {
  it('shows nothing beyond core and gives a curl download per file, a nested path as it is downloaded', () => {
    const { pkg, context } = uploaded('tools', '1.0.0', ['tool-linux.tar.gz', 'docs/manual.pdf']);
    const overview = genericPackageOverview(pkg, { ...context, baseUrl: 'http://stowage.example.com:8080/registry' });
    const base = 'http://stowage.example.com:8080/registry/api/v4/projects/42/packages/generic/tools/1.0.0';
    expect(overview).toEqual({
      metadata: [],
      dependencies: [],
      readme: null,
      instructions: [
        {
          title: 'Download tool-linux.tar.gz',
          language: 'shell',
          code: `curl --header "PRIVATE-TOKEN: <your_token>" -O ${base}/tool-linux.tar.gz`,
        },
        {
          title: 'Download docs/manual.pdf',
          language: 'shell',
          code: `curl --header "PRIVATE-TOKEN: <your_token>" -O ${base}/docs/manual.pdf`,
        },
      ],
    });
  });

  it(`names a file uploaded twice once, and at most ${MAX_DOWNLOAD_COMMANDS} files`, () => {
    const { pkg, context } = uploaded('tools', '1.0.0', ['a.bin', 'a.bin', 'b.bin', 'c.bin', 'd.bin', 'e.bin', 'f.bin']);
    expect(genericPackageOverview(pkg, context).instructions.map((i) => i.title)).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((f) => `Download ${f}.bin`),
    );
  });

  it('gives no command for a name, version or file the generic rules refuse', () => {
    const { pkg, context } = uploaded('tools', '1.0.0', ['a.bin']);
    expect(genericPackageOverview(packageRow({ ...pkg, name: '$(rm -rf ~)' }), context).instructions).toEqual([]);
    expect(genericPackageOverview(packageRow({ ...pkg, version: "1.0'" }), context).instructions).toEqual([]);
    const hostileFile = { ...context, files: [{ id: 9, file_name: 'a.bin;id', size: 1 }] };
    expect(genericPackageOverview(pkg, hostileFile).instructions).toEqual([]);
  });
});
