import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { npmFormat } from '../src';
import { publishBody } from './npm.fixtures';

// A Guest of a non-public project may install a package it names but not list the project's
// packages (GitLab; the PyPI index and the Packages API answer it 403). `npm search` lists
// names, so it refuses that Guest at the project and leaves the project out at group and
// instance scope, while a Reporter finds the same package at all three.
describe.each(testModes())('npm: a guest finds no package it may not list (%s)', (mode) => {
  let s: TestServer;
  let group: { id: number };
  let project: { id: number };
  let guest: TestUser;
  let groupGuest: TestUser;
  let reporter: TestUser;

  const get = (url: string, token: string) => s.api.inject({ url, headers: { authorization: `Bearer ${token}` } });
  const names = (body: { objects: { package: { name: string } }[] }) => body.objects.map((o) => o.package.name);
  const searches = () => ({
    group: `/api/v4/groups/${group.id}/-/packages/npm/-/v1/search?text=hidden`,
    instance: '/api/v4/packages/npm/-/v1/search?text=hidden',
  });

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode });
    ({ group, project, guest, groupGuest, reporter } = await s.api.guestListingAudience('lib'));
    const res = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/packages/npm/@team%2fhidden`,
      payload: JSON.stringify(publishBody('@team/hidden', '1.0.0')),
      headers: { 'content-type': 'application/json', 'npm-command': 'publish', authorization: `Bearer ${s.rootToken}` },
    });
    expect(res.status).toBe(200);
  }, 120_000);
  afterAll(() => s?.close());

  it.each(['guest', 'groupGuest'] as const)(
    'a %s: 403 on the project search, absent from group and instance search, yet installs',
    async (who) => {
      const token = { guest, groupGuest }[who].token;
      const projectSearch = await get(`/api/v4/projects/${project.id}/packages/npm/-/v1/search?text=hidden`, token);
      expect([projectSearch.status, projectSearch.json()]).toEqual([403, { error: '403 Forbidden' }]);
      for (const url of Object.values(searches())) {
        const res = await get(url, token);
        expect(res.status).toBe(200);
        expect(res.json()).toMatchObject({ objects: [], total: 0 });
      }
      // The packument of a name it knows is what `npm install` reads: still served.
      expect((await get(`/api/v4/projects/${project.id}/packages/npm/@team%2fhidden`, token)).status).toBe(200);
    },
  );

  it('a Reporter finds it at all three scopes', async () => {
    const projectSearch = await get(`/api/v4/projects/${project.id}/packages/npm/-/v1/search?text=hidden`, reporter.token);
    expect(names(projectSearch.json())).toEqual(['@team/hidden']);
    for (const url of Object.values(searches())) expect(names((await get(url, reporter.token)).json())).toEqual(['@team/hidden']);
  });
});
