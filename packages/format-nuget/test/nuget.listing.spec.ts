import { buildZip, multipart, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { nuspecXml } from './nuget.fixtures';

// A Guest of a non-public project may install a package it names but not list the project's
// packages (GitLab; the PyPI index and the Packages API answer it 403). NuGet's search (v3
// `query`, the v2 `Packages()` feed) lists names: 403 at that project, nothing of it at group
// scope. What an install of a known id reads (registration, flat container, FindPackagesById)
// stays readable.
describe.each(testModes())('nuget: a guest finds no package it may not list (%s)', (mode) => {
  let s: TestServer;
  let group: { id: number };
  let project: TestProject;
  let guest: TestUser;
  let groupGuest: TestUser;
  let reporter: TestUser;

  const base = () => `/api/v4/projects/${project.id}/packages/nuget`;
  const groupBase = () => `/api/v4/groups/${group.id}/-/packages/nuget`;
  const get = (url: string, token: string) => s.api.inject({ url, token });
  const ids = (body: { data: { id: string }[] }) => body.data.map((d) => d.id);

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode });
    ({ group, project, guest, groupGuest, reporter } = await s.api.guestListingAudience('lib'));
    const nupkg = buildZip({ 'Team.Hidden.nuspec': nuspecXml('Team.Hidden', '1.0.0'), 'content/a.txt': 'x\n' });
    const { body, contentType } = multipart([{ name: 'package', value: nupkg, fileName: 'package.nupkg' }]);
    const res = await s.api.inject({
      method: 'PUT',
      url: `${base()}/`,
      payload: body,
      headers: { 'content-type': contentType },
      token: s.rootToken,
    });
    expect(res.status).toBe(201);
  }, 120_000);
  afterAll(() => s?.close());

  it.each(['guest', 'groupGuest'] as const)(
    'a %s: 403 on the project search and v2 feed, absent from the group search, yet installs',
    async (who) => {
      const token = { guest, groupGuest }[who].token;
      const search = await get(`${base()}/query?q=hidden`, token);
      expect([search.status, search.json()]).toEqual([403, { message: '403 Forbidden' }]);
      const feed = await get(`${base()}/v2/Packages()`, token);
      expect([feed.status, feed.json()]).toEqual([403, { message: '403 Forbidden' }]);
      const groupSearch = await get(`${groupBase()}/query?q=hidden`, token);
      expect([groupSearch.status, groupSearch.json()]).toEqual([200, { totalHits: 0, data: [] }]);
      // What an install of the id reads, v3 and v2.
      expect((await get(`${base()}/metadata/team.hidden/index.json`, token)).status).toBe(200);
      expect((await get(`${groupBase()}/metadata/team.hidden/index.json`, token)).status).toBe(200);
      expect((await get(`${base()}/download/team.hidden/index.json`, token)).json()).toEqual({ versions: ['1.0.0'] });
      const byId = await get(`${base()}/v2/FindPackagesById()?id='Team.Hidden'`, token);
      expect([byId.status, byId.body]).toEqual([200, expect.stringContaining('Team.Hidden')]);
      expect((await get(`${base()}/download/team.hidden/1.0.0/team.hidden.1.0.0.nupkg`, token)).status).toBe(200);
    },
  );

  it('a Reporter finds it through every search', async () => {
    expect(ids((await get(`${base()}/query?q=hidden`, reporter.token)).json())).toEqual(['Team.Hidden']);
    expect(ids((await get(`${groupBase()}/query?q=hidden`, reporter.token)).json())).toEqual(['Team.Hidden']);
    const feed = await get(`${base()}/v2/Packages()`, reporter.token);
    expect([feed.status, feed.body]).toEqual([200, expect.stringContaining('Team.Hidden')]);
  });
});
