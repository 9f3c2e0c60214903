import { startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel } from '../src';

// Who may call each admin route of issue 19 (GitLab's roles): an admin, the group's Owner,
// Maintainer, Developer and Reporter, a signed-in non-member and an anonymous caller. A route
// that changes something gets a fresh target for every caller.

type Role = 'admin' | 'owner' | 'maintainer' | 'developer' | 'reporter' | 'outsider' | 'anonymous';
const ROLES: Role[] = ['admin', 'owner', 'maintainer', 'developer', 'reporter', 'outsider', 'anonymous'];

describe.each(testModes())('admin API permission matrix (%s)', (mode) => {
  let s: TestServer;
  const users = {} as Record<Exclude<Role, 'admin' | 'anonymous'>, TestUser>;
  let group: { id: number };
  let project: { id: number };
  let target: TestUser;
  let n = 0;
  const token = (role: Role) => (role === 'admin' ? s.rootToken : role === 'anonymous' ? undefined : users[role].token);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    for (const role of ['owner', 'maintainer', 'developer', 'reporter', 'outsider'] as const) users[role] = await s.api.createUser(role);
    target = await s.api.createUser('target');
    group = await s.api.createGroup('matrix', { visibility: 'private' });
    project = await s.api.createProject('app', { visibility: 'private', namespaceId: group.id });
    const levels = {
      owner: AccessLevel.OWNER,
      maintainer: AccessLevel.MAINTAINER,
      developer: AccessLevel.DEVELOPER,
      reporter: AccessLevel.REPORTER,
    };
    for (const [role, level] of Object.entries(levels))
      await s.api.addMember({ group: group.id }, users[role as keyof typeof levels].id, level);
  });
  afterAll(() => s?.close());

  /** Each route: how to make its target (once per caller when it changes something), the call, and the status each role gets. */
  const routes: {
    name: string;
    prepare?: () => Promise<string>;
    call: (url: string) => { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; url: string; payload?: object };
    expect: number[];
  }[] = [
    {
      name: 'GET project members',
      call: () => ({ method: 'GET', url: `/api/v4/projects/${project.id}/members` }),
      expect: [200, 200, 200, 200, 200, 404, 401],
    },
    {
      name: 'GET group members/all',
      call: () => ({ method: 'GET', url: `/api/v4/groups/${group.id}/members/all` }),
      expect: [200, 200, 200, 200, 200, 404, 401],
    },
    {
      name: 'GET group projects',
      call: () => ({ method: 'GET', url: `/api/v4/groups/${group.id}/projects` }),
      expect: [200, 200, 200, 200, 200, 404, 404],
    },
    {
      name: 'GET group subgroups',
      call: () => ({ method: 'GET', url: `/api/v4/groups/${group.id}/subgroups` }),
      expect: [200, 200, 200, 200, 200, 404, 404],
    },
    {
      name: 'PUT group',
      call: () => ({ method: 'PUT', url: `/api/v4/groups/${group.id}`, payload: { description: 'd' } }),
      expect: [200, 200, 403, 403, 403, 404, 401],
    },
    {
      name: 'PUT project member',
      prepare: async () => {
        await s.api.inject({ method: 'DELETE', url: `/api/v4/projects/${project.id}/members/${target.id}`, token: s.rootToken });
        await s.api.addMember({ project: project.id }, target.id, AccessLevel.GUEST);
        return `/api/v4/projects/${project.id}/members/${target.id}`;
      },
      call: (url) => ({ method: 'PUT', url, payload: { access_level: AccessLevel.REPORTER } }),
      expect: [200, 200, 200, 403, 403, 404, 401],
    },
    {
      name: 'DELETE group member',
      prepare: async () => {
        await s.api.inject({ method: 'DELETE', url: `/api/v4/groups/${group.id}/members/${target.id}`, token: s.rootToken });
        await s.api.addMember({ group: group.id }, target.id, AccessLevel.GUEST);
        return `/api/v4/groups/${group.id}/members/${target.id}`;
      },
      call: (url) => ({ method: 'DELETE', url }),
      expect: [204, 204, 204, 403, 403, 404, 401],
    },
    {
      name: 'DELETE project',
      prepare: async () => `/api/v4/projects/${(await s.api.createProject(`gone${++n}`, { namespaceId: group.id })).id}`,
      call: (url) => ({ method: 'DELETE', url }),
      expect: [202, 202, 403, 403, 403, 404, 401],
    },
    {
      name: 'DELETE group',
      prepare: async () => `/api/v4/groups/${(await s.api.createGroup(`sub${++n}`, { parentId: group.id })).id}`,
      call: (url) => ({ method: 'DELETE', url }),
      expect: [202, 202, 403, 403, 403, 404, 401],
    },
    { name: 'GET users', call: () => ({ method: 'GET', url: '/api/v4/users' }), expect: [200, 200, 200, 200, 200, 200, 403] },
    {
      name: 'PUT user',
      call: () => ({ method: 'PUT', url: `/api/v4/users/${target.id}`, payload: { name: 'T' } }),
      expect: [200, 403, 403, 403, 403, 403, 401],
    },
    {
      name: 'POST user block',
      prepare: async () => {
        await s.api.inject({ method: 'POST', url: `/api/v4/users/${target.id}/unblock`, token: s.rootToken });
        return `/api/v4/users/${target.id}/block`;
      },
      call: (url) => ({ method: 'POST', url }),
      expect: [201, 403, 403, 403, 403, 403, 401],
    },
    {
      name: 'DELETE user',
      prepare: async () => `/api/v4/users/${(await s.api.createUser(`leaver${++n}`)).id}`,
      call: (url) => ({ method: 'DELETE', url }),
      expect: [204, 403, 403, 403, 403, 403, 401],
    },
  ];

  it.each(routes.map((r) => [r.name, r] as const))('%s', async (_name, route) => {
    const got: number[] = [];
    for (const role of ROLES) {
      const url = route.prepare ? await route.prepare() : '';
      const req = route.call(url);
      got.push((await s.api.inject({ ...req, token: token(role) })).status);
    }
    expect(Object.fromEntries(ROLES.map((r, i) => [r, got[i]]))).toEqual(Object.fromEntries(ROLES.map((r, i) => [r, route.expect[i]])));
  });
});
