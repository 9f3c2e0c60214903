import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { npmFormat } from '../src';
import { ClientSandbox, expectOk } from './npm.clients';
import { publishBody } from './npm.fixtures';

// The package rate limits through the real npm client (issue 19, item 7): once a user is past
// the limit, npm stops with the server's 429 and says so (retries off: npm would otherwise
// wait out its back-off before saying the same).

describe('npm against the package rate limits', () => {
  let s: TestServer;
  let sb: ClientSandbox;
  let alice: TestUser;
  let registry: string;

  beforeAll(async () => {
    s = await startTestServer({
      formats: [npmFormat],
      mode: testModes()[0],
      listen: true,
      config: {
        rate_limits: {
          throttle_authenticated_packages_api_enabled: true,
          throttle_authenticated_packages_api_requests_per_period: 3,
          throttle_authenticated_packages_api_period_in_seconds: 600,
        },
      },
    });
    sb = await ClientSandbox.create();
    alice = await s.api.createUser('alice');
    const group = await s.api.createGroup('acme');
    const project = await s.api.createProject('lib', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, alice.id, 30);
    registry = `${s.url}/api/v4/projects/${project.id}/packages/npm/`;
    // Root publishes (its own count); alice installs.
    const published = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/packages/npm/@acme%2fwidget`,
      token: s.rootToken,
      payload: publishBody('@acme/widget', '1.0.0'),
    });
    expect(published.status).toBe(200);
    await sb.writeNpmrc([`@acme:registry=${registry}`, `${registry.replace(/^https?:/, '')}:_authToken=${alice.token}`, 'fetch-retries=0']);
  });
  afterAll(async () => {
    await s?.close();
    await sb?.cleanup();
  });

  it('installs within the limit, then fails with a readable 429', async () => {
    const cwd = await sb.dir('app');
    // The packument and the tarball: two of alice's three requests.
    expectOk(await sb.npm(['install', '@acme/widget@1.0.0', '--no-save'], cwd), 'install');
    expectOk(await sb.npm(['view', '@acme/widget', 'version'], cwd), 'view');
    const refused = await sb.npm(['view', '@acme/widget', 'version'], cwd);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/E429/);
    expect(refused.stderr).toMatch(
      /429 Too Many Requests - GET http:\/\/127\.0\.0\.1:\d+\/api\/v4\/projects\/\d+\/packages\/npm\/@acme%2fwidget/,
    );
  });
});
