import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';

const RREV = 'a'.repeat(32);
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

// A Guest of a non-public project may install a recipe it names but not list the project's
// packages (GitLab; the PyPI index and the Packages API answer it 403). `conan search` lists
// recipes: 403 at that project's remote (v1 and v2), none of its recipes from the instance
// remote, while a Reporter finds the same recipe at both.
describe.each(testModes())('conan: a guest finds no recipe it may not list (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;
  let guest: TestUser;
  let groupGuest: TestUser;
  let reporter: TestUser;
  let ref: string;

  const v1 = () => `/api/v4/projects/${project.id}/packages/conan/v1`;
  const v2 = () => `/api/v4/projects/${project.id}/packages/conan/v2`;
  const instance = '/api/v4/packages/conan/v1';
  const get = (url: string, user: TestUser) => s.api.inject({ url, headers: { authorization: basic(user.username, user.token) } });
  const results = async (url: string, user: TestUser) => {
    const res = await get(url, user);
    expect(res.status).toBe(200);
    return res.json().results;
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode });
    ({ project, guest, groupGuest, reporter } = await s.api.guestListingAudience('lib'));
    // The instance remote addresses a recipe whose user is its project's path.
    ref = 'hidden/1.0@team+lib/stable';
    const res = await s.api.inject({
      method: 'PUT',
      url: `${v2()}/conans/hidden/1.0/team+lib/stable/revisions/${RREV}/files/conanfile.py`,
      payload: 'from conan import ConanFile\n',
      headers: { authorization: basic('root', s.rootToken) },
    });
    expect(res.status).toBe(200);
    // The v1 API serves revision 0.
    expect(
      (
        await s.api.inject({
          method: 'PUT',
          url: `${v1()}/files/hidden/1.0/team+lib/stable/0/export/conanfile.py`,
          payload: 'x\n',
          headers: { authorization: basic('root', s.rootToken) },
        })
      ).status,
    ).toBe(200);
  }, 120_000);
  afterAll(() => s?.close());

  it.each(['guest', 'groupGuest'] as const)(
    'a %s: 403 on the project search, nothing from the instance search, yet installs',
    async (who) => {
      const user = { guest, groupGuest }[who];
      for (const url of [`${v1()}/conans/search?q=hidden`, `${v2()}/conans/search?q=hidden`]) {
        const res = await get(url, user);
        expect([res.status, res.json()]).toEqual([403, { message: '403 Forbidden' }]);
      }
      expect(await results(`${instance}/conans/search?q=hidden`, user)).toEqual([]);
      expect(await results(`${instance}/conans/search?q=${encodeURIComponent('hidden/*@team+lib/*')}`, user)).toEqual([]);
      // What `conan install hidden/1.0@team+lib/stable` reads.
      expect((await get(`${v1()}/conans/hidden/1.0/team+lib/stable`, user)).status).toBe(200);
      expect((await get(`${instance}/conans/hidden/1.0/team+lib/stable`, user)).status).toBe(200);
      expect((await get(`${v2()}/conans/hidden/1.0/team+lib/stable/latest`, user)).status).toBe(200);
    },
  );

  it('a Reporter finds it from the project and the instance remote', async () => {
    expect(await results(`${v1()}/conans/search?q=hidden`, reporter)).toEqual([ref]);
    expect(await results(`${v2()}/conans/search?q=hidden`, reporter)).toEqual([ref]);
    expect(await results(`${instance}/conans/search?q=hidden`, reporter)).toEqual([ref]);
    expect(await results(`${instance}/conans/search?q=${encodeURIComponent('hidden/*@team+lib/*')}`, reporter)).toEqual([ref]);
  });
});
