import { overviewContext, packageRow } from '@stowage/testkit';

import { GO } from '../src/go.naming';
import { goPackageOverview } from '../src/go.overview';

const context = overviewContext();

/** The row a zip upload creates: module path and version, no metadata (go.mod is a file). */
const published = (path: string, version: string) => packageRow({ package_type: GO, name: path, version });

describe('Go package overview', () => {
  it('shows the module path and version and gives GOPROXY, GONOSUMDB, netrc and go get', () => {
    const overview = goPackageOverview(published('example.com/acme/greet/v2', 'v2.1.0'), {
      ...context,
      baseUrl: 'https://stowage.example.com:8443/registry',
    });
    expect(overview).toEqual({
      metadata: [
        { label: 'Module path', value: 'example.com/acme/greet/v2' },
        { label: 'Version', value: 'v2.1.0' },
      ],
      dependencies: [],
      readme: null,
      instructions: [
        {
          title: 'Point go at this project',
          language: 'shell',
          code:
            'export GOPROXY=https://stowage.example.com:8443/registry/api/v4/projects/42/packages/go,https://proxy.golang.org,direct\n' +
            'export GONOSUMDB=example.com/acme/greet/v2\n' +
            "printf 'machine stowage.example.com login <your_username> password <your_token>\\n' >> ~/.netrc",
        },
        { title: 'Install', language: 'shell', code: 'go get example.com/acme/greet/v2@v2.1.0' },
      ],
    });
  });

  it('returns the path as plain text, and no command for a path or version go refuses', () => {
    const hostile = published('example.com/$(rm -rf ~)', 'v1.0.0');
    expect(goPackageOverview(hostile, context).metadata[0]).toEqual({ label: 'Module path', value: 'example.com/$(rm -rf ~)' });
    expect(goPackageOverview(hostile, context).instructions).toEqual([]);
    expect(goPackageOverview(published('example.com/greet', "v1.0.0';id"), context).instructions).toEqual([]);
  });
});
