import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel } from '../src';

// The members API of projects and groups (issue 19): lists, one member, PUT and DELETE with
// GitLab's rules (Maintainers change, only Owners touch Owners, a group keeps an Owner, anyone leaves).

describe.each(testModes())('admin API: members (%s)', (mode) => {
  let s: TestServer;
  let owner: TestUser;
  let owner2: TestUser;
  let maintainer: TestUser;
  let developer: TestUser;
  let reporter: TestUser;
  let outsider: TestUser;
  let group: { id: number; full_path: string };
  let project: { id: number };

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });
  const users = (res: InjectResult) =>
    (res.json() as { username: string; access_level: number }[]).map((m) => `${m.username}:${m.access_level}`);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    [owner, owner2, maintainer, developer, reporter, outsider] = await Promise.all(
      ['owner', 'owner2', 'maintainer', 'developer', 'reporter', 'outsider'].map((u) => s.api.createUser(u)),
    );
    group = await s.api.createGroup('crew', { visibility: 'private' });
    await s.api.addMember({ group: group.id }, owner.id, AccessLevel.OWNER);
    const root = await s.api.root('GET', '/api/v4/user');
    await s.api.root('DELETE', `/api/v4/groups/${group.id}/members/${root.id}`); // root made it; owner runs it
    await s.api.addMember({ group: group.id }, maintainer.id, AccessLevel.MAINTAINER);
    project = await s.api.createProject('app', { visibility: 'private', namespaceId: group.id });
    await s.api.addMember({ project: project.id }, developer.id, AccessLevel.DEVELOPER);
    await s.api.addMember({ project: project.id }, reporter.id, AccessLevel.REPORTER);
  });
  afterAll(() => s?.close());

  it('lists direct and inherited members with GitLab’s shape and pages; 401 anonymous, 404 outsiders', async () => {
    const direct = await call('GET', `/api/v4/projects/${project.id}/members`, reporter.token);
    expect(direct.status).toBe(200);
    expect(users(direct)).toEqual(['developer:30', 'reporter:20']);
    expect(direct.json()[0]).toMatchObject({
      id: developer.id,
      username: 'developer',
      name: 'developer',
      state: 'active',
      access_level: 30,
      expires_at: null,
      membership_state: 'active',
      web_url: expect.stringContaining('/developer'),
    });
    expect(direct.headers).toMatchObject({ 'x-total': '2', 'x-page': '1' });
    // Each user once at their highest level, ordered by user id (these users were made concurrently).
    expect(users(await call('GET', `/api/v4/projects/${project.id}/members/all`, reporter.token)).sort()).toEqual([
      'developer:30',
      'maintainer:40',
      'owner:50',
      'reporter:20',
    ]);
    expect(users(await call('GET', `/api/v4/projects/${project.id}/members/all?query=own`, reporter.token))).toEqual(['owner:50']);
    expect(
      users(await call('GET', `/api/v4/projects/${project.id}/members/all?user_ids=${reporter.id},${owner.id}`, reporter.token)).sort(),
    ).toEqual(['owner:50', 'reporter:20']);
    expect(users(await call('GET', `/api/v4/groups/${group.id}/members`, developer.token))).toEqual(['owner:50', 'maintainer:40']);
    expect((await call('GET', `/api/v4/projects/${project.id}/members`)).status).toBe(401);
    expect((await call('GET', `/api/v4/projects/${project.id}/members`, outsider.token)).json()).toEqual({
      message: '404 Project Not Found',
    });
    expect((await call('GET', `/api/v4/groups/${group.id}/members/all`, outsider.token)).json()).toEqual({
      message: '404 Group Not Found',
    });
    expect((await call('GET', `/api/v4/projects/${project.id}/members?user_ids=x`, reporter.token)).json()).toEqual({
      error: 'user_ids is invalid',
    });
  });

  it('shows one member, direct or inherited', async () => {
    expect((await call('GET', `/api/v4/projects/${project.id}/members/${developer.id}`, reporter.token)).json()).toMatchObject({
      username: 'developer',
      access_level: 30,
    });
    const inheritedOnly = await call('GET', `/api/v4/projects/${project.id}/members/${owner.id}`, reporter.token);
    expect([inheritedOnly.status, inheritedOnly.json()]).toEqual([404, { message: '404 Not found' }]);
    expect((await call('GET', `/api/v4/projects/${project.id}/members/all/${owner.id}`, reporter.token)).json()).toMatchObject({
      username: 'owner',
      access_level: 50,
    });
    expect((await call('GET', `/api/v4/projects/${project.id}/members/abc`, reporter.token)).status).toBe(400);
  });

  it('PUT: Maintainers change roles and end dates; only Owners give or take Owner; bad input is 400', async () => {
    const url = `/api/v4/projects/${project.id}/members/${reporter.id}`;
    expect((await call('PUT', url, null, { access_level: 30 })).status).toBe(401);
    expect((await call('PUT', url, outsider.token, { access_level: 30 })).status).toBe(404);
    expect((await call('PUT', url, developer.token, { access_level: 30 })).json()).toEqual({ message: '403 Forbidden' });
    const ok = await call('PUT', url, maintainer.token, { access_level: 30, expires_at: '2999-01-31' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ id: reporter.id, access_level: 30, expires_at: '2999-01-31' });
    expect((await call('PUT', url, maintainer.token, { access_level: 20, expires_at: '' })).json()).toMatchObject({
      access_level: 20,
      expires_at: null,
    });
    expect((await call('PUT', url, maintainer.token, { access_level: 50 })).status).toBe(403);
    expect((await call('PUT', url, owner.token, { access_level: 50 })).json()).toMatchObject({ access_level: 50 });
    expect((await call('PUT', url, maintainer.token, { access_level: 20 })).status).toBe(403);
    expect((await call('PUT', url, owner.token, { access_level: 20 })).status).toBe(200);
    expect((await call('PUT', url, maintainer.token, {})).json()).toEqual({ error: 'access_level is missing' });
    expect((await call('PUT', url, maintainer.token, { access_level: 45 })).json()).toEqual({
      error: 'access_level does not have a valid value',
    });
    expect((await call('PUT', url, maintainer.token, { access_level: 20, expires_at: '2027-02-30' })).json()).toEqual({
      error: 'expires_at is invalid',
    });
    expect(
      (await call('PUT', `/api/v4/projects/${project.id}/members/${outsider.id}`, maintainer.token, { access_level: 20 })).json(),
    ).toEqual({
      message: '404 Not found',
    });
  });

  it('a group keeps an Owner: its last one is neither demoted nor removed', async () => {
    const url = `/api/v4/groups/${group.id}/members/${owner.id}`;
    expect((await call('PUT', url, owner.token, { access_level: 40 })).json()).toEqual({ message: '403 Forbidden' });
    expect((await call('DELETE', url, owner.token)).status).toBe(403);
    expect((await call('DELETE', url, s.rootToken)).status).toBe(403);
    await s.api.addMember({ group: group.id }, owner2.id, AccessLevel.OWNER);
    expect((await call('PUT', url, owner2.token, { access_level: 40 })).json()).toMatchObject({ access_level: 40 });
    expect((await call('PUT', url, owner2.token, { access_level: 50 })).status).toBe(200);
    // Both Owners removed at once: one removal passes, the other finds it would leave none.
    const both = await Promise.all([owner, owner2].map((o) => call('DELETE', `/api/v4/groups/${group.id}/members/${o.id}`, s.rootToken)));
    expect(both.map((r) => r.status).sort()).toEqual([204, 403]);
    const survivor = both[0].status === 403 ? owner : owner2;
    const gone = survivor === owner ? owner2 : owner;
    expect(users(await call('GET', `/api/v4/groups/${group.id}/members?query=owner`, survivor.token))).toEqual([`${survivor.username}:50`]);
    await s.api.addMember({ group: group.id }, gone.id, AccessLevel.OWNER);
  });

  it('DELETE: Maintainers remove members (Owners only Owners), anyone leaves; a group’s removal reaches its projects', async () => {
    expect((await call('DELETE', `/api/v4/projects/${project.id}/members/${developer.id}`, reporter.token)).status).toBe(403);
    const leave = await call('DELETE', `/api/v4/projects/${project.id}/members/${reporter.id}`, reporter.token);
    expect([leave.status, leave.body]).toEqual([204, '']);
    expect((await call('GET', `/api/v4/projects/${project.id}`, reporter.token)).status).toBe(404);
    expect((await call('DELETE', `/api/v4/groups/${group.id}/members/${owner2.id}`, maintainer.token)).status).toBe(403);

    await s.api.addMember({ group: group.id }, developer.id, AccessLevel.REPORTER);
    expect((await call('DELETE', `/api/v4/groups/${group.id}/members/${developer.id}`, maintainer.token)).status).toBe(204);
    // GitLab removes the user's memberships below the group too (unless skip_subresources=true).
    expect((await call('GET', `/api/v4/projects/${project.id}/members/${developer.id}`, owner.token)).status).toBe(404);
    expect((await call('DELETE', `/api/v4/groups/${group.id}/members/${developer.id}`, maintainer.token)).json()).toEqual({
      message: '404 Not found',
    });
  });
});
