import { http, startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';

import { goFormat } from '../src';

// A NUL in the version of a proxy URL is looked up before any version rule applies: it must
// be a miss (404, as the go command expects for what does not exist), never a 500.
describe.each(testModes())('go bad input (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;

  beforeAll(async () => {
    s = await startTestServer({ formats: [goFormat], mode, listen: true });
    project = await s.api.createProject('mods');
  });
  afterAll(() => s?.close());

  it.each(['info', 'mod', 'zip'])('GET <module>/@v/<version with %%00>.%s is a 404', async (ext) => {
    const res = await http(s.url, {
      path: `/api/v4/projects/${project.id}/packages/go/example.com/m/@v/v1.0.0%00.${ext}`,
      token: s.rootToken,
    });
    expect(res.status).toBe(404);
    expect(res.text).toMatch(/^not found: example\.com\/m\/@v\/v1\.0\.0.\.(info|mod|zip): invalid version: it contains a NUL character\n$/);
  });
});
