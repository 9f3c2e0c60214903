import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser, waitFor } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel } from '../src';

// GET /users, PUT /users/:id, block/unblock and DELETE /users/:id (issue 19).

describe.each(testModes())('admin API: users (%s)', (mode) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });
  const names = (res: InjectResult) => (res.json() as { username: string }[]).map((u) => u.username);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    alice = await s.api.createUser('alice');
    bob = await s.api.createUser('bob');
  });
  afterAll(() => s?.close());

  it('GET /users: admins see all with admin fields; users the basic shape; anonymous callers only by username', async () => {
    const admin = await call('GET', '/api/v4/users', s.rootToken);
    expect(names(admin)).toEqual(['bob', 'alice', 'root']);
    expect(admin.json()[0]).toMatchObject({ id: bob.id, username: 'bob', state: 'active', is_admin: false, email: null });
    expect(admin.headers).toMatchObject({ 'x-total': '3' });
    const basic = (await call('GET', '/api/v4/users?search=ali', bob.token)).json();
    expect(basic).toEqual([expect.objectContaining({ id: alice.id, username: 'alice' })]);
    expect(basic[0].is_admin).toBeUndefined();
    expect(names(await call('GET', '/api/v4/users?username=ALICE'))).toEqual(['alice']);
    expect((await call('GET', '/api/v4/users')).json()).toEqual({ message: '403 Forbidden - Not authorized to access /api/v4/users' });
    expect(names(await call('GET', '/api/v4/users?order_by=username&sort=asc&per_page=2', s.rootToken))).toEqual(['alice', 'bob']);
    expect((await call('GET', '/api/v4/users?order_by=email', s.rootToken)).json()).toEqual({
      error: 'order_by does not have a valid value',
    });
  });

  it('PUT /users/:id is an admin’s: names, email, admin flag; taken names are 409', async () => {
    expect((await call('PUT', `/api/v4/users/${bob.id}`, alice.token, { name: 'x' })).status).toBe(403);
    expect((await call('PUT', `/api/v4/users/${bob.id}`, null, { name: 'x' })).status).toBe(401);
    expect((await call('PUT', '/api/v4/users/999999', s.rootToken, { name: 'x' })).json()).toEqual({ message: '404 User Not Found' });
    const res = await call('PUT', `/api/v4/users/${bob.id}`, s.rootToken, { name: 'Bob B', email: 'bob@example.com', admin: false });
    expect(res.json()).toMatchObject({ id: bob.id, name: 'Bob B', email: 'bob@example.com', is_admin: false });
    expect((await call('PUT', `/api/v4/users/${alice.id}`, s.rootToken, { email: 'BOB@example.com' })).json()).toEqual({
      message: 'Email has already been taken',
    });
    expect((await call('PUT', `/api/v4/users/${alice.id}`, s.rootToken, { username: 'bob' })).json()).toEqual({
      message: 'Username has already been taken',
    });
    const project = await call('POST', '/api/v4/projects', alice.token, { name: 'mine' });
    expect(project.status).toBe(201);
    expect((await call('PUT', `/api/v4/users/${alice.id}`, s.rootToken, { username: 'alicia' })).json()).toMatchObject({
      username: 'alicia',
    });
    expect((await call('GET', `/api/v4/projects/${encodeURIComponent('alicia/mine')}`, alice.token)).json()).toMatchObject({
      id: project.json().id,
    });
    expect((await call('PUT', `/api/v4/users/${alice.id}`, s.rootToken, { username: 'alice' })).status).toBe(200);
  });

  it('block stops every token of the user at once; unblock restores them', async () => {
    expect((await call('POST', `/api/v4/users/${bob.id}/block`, alice.token)).status).toBe(403);
    expect((await call('GET', '/api/v4/user', bob.token)).status).toBe(200);
    const blocked = await call('POST', `/api/v4/users/${bob.id}/block`, s.rootToken);
    expect([blocked.status, blocked.json()]).toEqual([201, true]);
    expect((await call('GET', '/api/v4/user', bob.token)).status).toBe(401);
    expect(names(await call('GET', '/api/v4/users?blocked=true', s.rootToken))).toEqual(['bob']);
    expect((await call('POST', `/api/v4/users/${bob.id}/block`, s.rootToken)).status).toBe(201);
    const me = await s.api.root('GET', '/api/v4/user');
    expect((await call('POST', `/api/v4/users/${me.id}/block`, s.rootToken)).json()).toEqual({
      message: '403 Forbidden - The API initiating user cannot be blocked by the API',
    });
    expect((await call('POST', `/api/v4/users/${bob.id}/unblock`, s.rootToken)).json()).toBe(true);
    expect((await call('GET', '/api/v4/user', bob.token)).status).toBe(200);
    expect((await call('POST', '/api/v4/users/999999/unblock', s.rootToken)).json()).toEqual({ message: '404 User Not Found' });
    expect((await call('POST', '/api/v4/users/bob/unblock', s.rootToken)).json()).toEqual({ error: 'id is invalid' });
  });

  it('DELETE /users/:id: 204; tokens and memberships go at once, the personal projects in the background; a sole group Owner needs hard_delete', async () => {
    const carol = await s.api.createUser('carol');
    const own = (await call('POST', '/api/v4/projects', carol.token, { name: 'own' })).json();
    const group = (await call('POST', '/api/v4/groups', carol.token, { name: 'carols', path: 'carols' })).json();
    const shared = await s.api.createGroup('shared', { visibility: 'private' });
    await s.api.addMember({ group: shared.id }, carol.id, AccessLevel.DEVELOPER);
    expect((await call('DELETE', `/api/v4/users/${carol.id}`, alice.token)).status).toBe(403);
    const refused = await call('DELETE', `/api/v4/users/${carol.id}`, s.rootToken);
    expect([refused.status, refused.json()]).toEqual([409, { message: 'User cannot be removed while is the sole-owner of a group' }]);
    expect((await call('GET', '/api/v4/user', carol.token)).status).toBe(200);

    const res = await call('DELETE', `/api/v4/users/${carol.id}?hard_delete=true`, s.rootToken);
    expect([res.status, res.body]).toEqual([204, '']);
    expect((await call('GET', '/api/v4/user', carol.token)).status).toBe(401);
    expect((await call('GET', `/api/v4/users/${carol.id}`, s.rootToken)).status).toBe(404);
    expect((await call('GET', `/api/v4/projects/${own.id}`, s.rootToken)).status).toBe(404);
    expect((await call('GET', `/api/v4/groups/${group.id}`, s.rootToken)).status).toBe(404);
    expect((await call('GET', `/api/v4/groups/${shared.id}/members/${carol.id}`, s.rootToken)).status).toBe(404);
    const ds = s.app.get(DataSource);
    await s.drainJobs();
    await waitFor(
      'carol’s namespace and group to go',
      async () => (await ds.query("SELECT 1 FROM namespaces WHERE path IN ('carol', 'carols')")).length === 0,
    );
    expect(await ds.query('SELECT 1 FROM projects WHERE id = $1', [own.id])).toEqual([]);
    expect((await call('DELETE', `/api/v4/users/${carol.id}`, s.rootToken)).status).toBe(404);
  });
});
