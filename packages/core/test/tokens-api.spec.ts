import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel } from '../src/auth/access-level';

// GitLab's personal access tokens API (GET list with its filters, GET one, rotate, self/rotate,
// DELETE) and its deploy token reads (GET /deploy_tokens, a project's one, a group's), with the
// statuses GitLab gives each caller (lib/api/personal_access_tokens.rb, lib/api/deploy_tokens.rb).

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe.each(testModes())('token APIs (%s)', (mode) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });

  /** A personal token of `user`, made by the admin API; its id and secret. */
  async function pat(user: TestUser, name: string, scopes: string[] = ['api'], expiresAt?: string) {
    const res = await call('POST', `/api/v4/users/${user.id}/personal_access_tokens`, s.rootToken, {
      name,
      scopes,
      ...(expiresAt ? { expires_at: expiresAt } : {}),
    });
    expect(res.status).toBe(201);
    return res.json<{ id: number; token: string }>();
  }

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    alice = await s.api.createUser('alice');
    bob = await s.api.createUser('bob');
    admin = await s.api.createUser('boss', { admin: true });
  });
  afterAll(() => s?.close());

  describe('personal access tokens', () => {
    it('lists the caller’s own tokens with pagination headers; an admin sees anyone’s or one user’s', async () => {
      await pat(alice, 'second');
      await pat(alice, 'third');
      const mine = await call('GET', '/api/v4/personal_access_tokens?per_page=2', alice.token);
      expect(mine.status).toBe(200);
      expect(mine.headers['x-total']).toBe('3');
      expect(mine.headers['x-total-pages']).toBe('2');
      expect(mine.headers['x-next-page']).toBe('2');
      expect(mine.json<{ user_id: number }[]>().every((t) => t.user_id === alice.id)).toBe(true);
      expect(Object.keys(mine.json()[0]).sort()).toEqual(
        ['active', 'created_at', 'description', 'expires_at', 'id', 'last_used_at', 'name', 'revoked', 'scopes', 'user_id'].sort(),
      );

      const hers = await call('GET', `/api/v4/personal_access_tokens?user_id=${alice.id}`, admin.token);
      expect(hers.json<{ user_id: number }[]>().map((t) => t.user_id)).toEqual([alice.id, alice.id, alice.id]);
      const everyone = await call('GET', '/api/v4/personal_access_tokens?per_page=100', admin.token);
      expect(new Set(everyone.json<{ user_id: number }[]>().map((t) => t.user_id))).toEqual(
        new Set([alice.id, bob.id, admin.id, (await call('GET', '/api/v4/user', s.rootToken)).json().id]),
      );
      // GitLab: a non-admin naming another user is 401; an admin naming nobody, 404.
      expect((await call('GET', `/api/v4/personal_access_tokens?user_id=${bob.id}`, alice.token)).status).toBe(401);
      expect((await call('GET', `/api/v4/personal_access_tokens?user_id=${alice.id}`, alice.token)).status).toBe(200);
      expect((await call('GET', '/api/v4/personal_access_tokens?user_id=999999', admin.token)).status).toBe(404);
      expect((await call('GET', '/api/v4/personal_access_tokens', null)).status).toBe(401);
    });

    it('filters by state, revoked, dates and search, and sorts', async () => {
      const carol = await s.api.createUser('carol');
      const old = await pat(carol, 'Release Deploy');
      const soon = await pat(carol, 'nightly', ['read_api'], day(3));
      await call('DELETE', `/api/v4/personal_access_tokens/${old.id}`, carol.token);
      const ids = async (query: string) =>
        (await call('GET', `/api/v4/personal_access_tokens?${query}`, carol.token)).json<{ id: number }[]>().map((t) => t.id);
      const setup = (await call('GET', '/api/v4/personal_access_tokens/self', carol.token)).json().id;

      expect(await ids('state=inactive')).toEqual([old.id]);
      expect(await ids('state=active')).toEqual([setup, soon.id]);
      expect(await ids('revoked=true')).toEqual([old.id]);
      expect(await ids('revoked=false')).toEqual([setup, soon.id]);
      expect(await ids('search=deploy')).toEqual([old.id]);
      expect(await ids('search=%25')).toEqual([]);
      expect(await ids(`expires_before=${day(10)}`)).toEqual([soon.id]);
      expect(await ids(`expires_after=${day(1)}`)).toEqual([soon.id]);
      expect(await ids(`created_after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
      expect(await ids(`created_before=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(3);
      expect(await ids('last_used_after=2000-01-01')).toEqual([setup]);
      expect(await ids('last_used_before=2000-01-01')).toEqual([]);
      expect(await ids('sort=expires_asc')).toEqual([soon.id, setup, old.id]);
      expect(await ids('sort=created_desc')).toEqual([soon.id, old.id, setup]);

      const bad = await call('GET', '/api/v4/personal_access_tokens?state=maybe', carol.token);
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'state does not have a valid value' });
      expect((await call('GET', '/api/v4/personal_access_tokens?created_before=yesterday', carol.token)).json()).toEqual({
        error: 'created_before is invalid',
      });
    });

    it('shows one token to its owner or an admin: 401 to anyone else, 404 to an admin for none', async () => {
      const t = await pat(alice, 'shown');
      const own = await call('GET', `/api/v4/personal_access_tokens/${t.id}`, alice.token);
      expect(own.status).toBe(200);
      expect(own.json()).toMatchObject({ id: t.id, name: 'shown', user_id: alice.id, revoked: false, active: true, scopes: ['api'] });
      expect(own.json().token).toBeUndefined();
      expect((await call('GET', `/api/v4/personal_access_tokens/${t.id}`, admin.token)).status).toBe(200);
      const other = await call('GET', `/api/v4/personal_access_tokens/${t.id}`, bob.token);
      expect([other.status, other.json()]).toEqual([401, { message: '401 Unauthorized' }]);
      expect((await call('GET', '/api/v4/personal_access_tokens/999999', bob.token)).status).toBe(401);
      const none = await call('GET', '/api/v4/personal_access_tokens/999999', admin.token);
      expect([none.status, none.json()]).toEqual([404, { message: '404 Not Found' }]);
    });

    it('rotates a token: a new secret with its name and scopes, the old one refused at once, a revoked one refused with 400', async () => {
      const t = await pat(alice, 'rotating', ['api', 'read_user'], day(30));
      const res = await call('POST', `/api/v4/personal_access_tokens/${t.id}/rotate`, alice.token, { expires_at: day(10) });
      expect(res.status).toBe(200);
      const rotated = res.json();
      expect(rotated).toMatchObject({
        name: 'rotating',
        scopes: ['api', 'read_user'],
        user_id: alice.id,
        active: true,
        expires_at: day(10),
      });
      expect(rotated.id).not.toBe(t.id);
      expect(rotated.token).toMatch(/^stwpat-/);
      expect((await call('GET', '/api/v4/user', t.token)).status).toBe(401);
      expect((await call('GET', '/api/v4/user', rotated.token)).json().id).toBe(alice.id);
      expect((await call('GET', `/api/v4/personal_access_tokens/${t.id}`, alice.token)).json()).toMatchObject({
        revoked: true,
        active: false,
      });

      const again = await call('POST', `/api/v4/personal_access_tokens/${t.id}/rotate`, alice.token);
      expect([again.status, again.json()]).toEqual([400, { message: '400 Bad request - token already revoked' }]);
      // Without expires_at: a week, as GitLab.
      const weekly = await call('POST', `/api/v4/personal_access_tokens/${rotated.id}/rotate`, admin.token);
      expect(weekly.status).toBe(200);
      expect(weekly.json().expires_at).toBe(day(7));
      expect((await call('POST', `/api/v4/personal_access_tokens/${weekly.json().id}/rotate`, bob.token)).status).toBe(401);
      expect((await call('POST', '/api/v4/personal_access_tokens/999999/rotate', admin.token)).status).toBe(404);
      const past = await call('POST', `/api/v4/personal_access_tokens/${weekly.json().id}/rotate`, alice.token, {
        expires_at: '2001-01-01',
      });
      expect([past.status, past.json()]).toEqual([400, { error: 'expires_at must be in the future' }]);
    });

    it('rotates the presented token (self/rotate): it needs api, and a revoked or expired token cannot', async () => {
      const t = await pat(bob, 'self');
      const res = await call('POST', '/api/v4/personal_access_tokens/self/rotate', t.token);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ name: 'self', user_id: bob.id });
      expect((await call('POST', '/api/v4/personal_access_tokens/self/rotate', t.token)).status).toBe(401);
      expect((await call('GET', '/api/v4/personal_access_tokens/self', res.json().token)).json().id).toBe(res.json().id);

      // GitLab's self_rotate scope: this route and nothing else.
      const selfOnly = await pat(bob, 'self-only', ['self_rotate']);
      const selfRotated = await call('POST', '/api/v4/personal_access_tokens/self/rotate', selfOnly.token);
      expect(selfRotated.status).toBe(200);
      expect(selfRotated.json().scopes).toEqual(['self_rotate']);
      expect((await call('GET', '/api/v4/user', selfRotated.json().token)).json().error).toBe('insufficient_scope');
      const readOnly = await pat(bob, 'ro', ['read_api']);
      expect((await call('POST', '/api/v4/personal_access_tokens/self/rotate', readOnly.token)).json().error).toBe('insufficient_scope');
      const expired = await pat(bob, 'old', ['api'], day(5));
      await s.app.get(DataSource).query("UPDATE tokens SET expires_at = now() - interval '1 day' WHERE id = $1", [expired.id]);
      expect((await call('POST', '/api/v4/personal_access_tokens/self/rotate', expired.token)).status).toBe(401);
    });

    it('revokes its own (by id or self) or, for an admin, anyone’s; someone else’s is 400 as GitLab', async () => {
      const a = await pat(alice, 'to-revoke');
      const denied = await call('DELETE', `/api/v4/personal_access_tokens/${a.id}`, bob.token);
      expect([denied.status, denied.json()]).toEqual([400, { message: '400 Bad request - Not permitted to revoke' }]);
      expect((await call('DELETE', '/api/v4/personal_access_tokens/999999', bob.token)).status).toBe(404);
      expect((await call('DELETE', `/api/v4/personal_access_tokens/${a.id}`, alice.token)).status).toBe(204);
      expect((await call('GET', '/api/v4/user', a.token)).status).toBe(401);
      const b = await pat(bob, 'by-admin');
      expect((await call('DELETE', `/api/v4/personal_access_tokens/${b.id}`, admin.token)).status).toBe(204);
      const c = await pat(bob, 'self-revoke');
      expect((await call('DELETE', '/api/v4/personal_access_tokens/self', c.token)).status).toBe(204);
      expect((await call('GET', '/api/v4/user', c.token)).status).toBe(401);
    });
  });

  describe('deploy tokens', () => {
    let group: { id: number };
    let project: { id: number };
    let maintainer: TestUser;
    let developer: TestUser;
    let outsider: TestUser;
    let live: { id: number };
    let revoked: { id: number };
    let groupToken: { id: number };

    beforeAll(async () => {
      group = await s.api.createGroup('deployers', { visibility: 'private' });
      project = await s.api.createProject('app', { namespaceId: group.id });
      maintainer = await s.api.createUser('dt-maintainer');
      developer = await s.api.createUser('dt-developer');
      outsider = await s.api.createUser('dt-outsider');
      await s.api.addMember({ group: group.id }, maintainer.id, AccessLevel.MAINTAINER);
      await s.api.addMember({ group: group.id }, developer.id, AccessLevel.DEVELOPER);
      live = await s.api.createDeployToken({ project: project.id }, ['read_package_registry']);
      revoked = await s.api.createDeployToken({ project: project.id }, ['write_package_registry']);
      await s.api.root('DELETE', `/api/v4/projects/${project.id}/deploy_tokens/${revoked.id}`);
      groupToken = await s.api.createDeployToken({ group: group.id }, ['read_package_registry']);
    });

    it('lists every deploy token to an admin, with the active filter and pagination headers; to no one else', async () => {
      const all = await call('GET', '/api/v4/deploy_tokens', admin.token);
      expect(all.status).toBe(200);
      expect(all.headers['x-total']).toBe('3');
      expect(all.json().map((t: { id: number }) => t.id)).toEqual([live.id, revoked.id, groupToken.id]);
      expect(all.json()[0]).toEqual({
        id: live.id,
        name: 'deploy',
        username: `gitlab+deploy-token-${live.id}`,
        expires_at: null,
        scopes: ['read_package_registry'],
        revoked: false,
        expired: false,
      });
      const active = await call('GET', '/api/v4/deploy_tokens?active=true', admin.token);
      expect(active.json().map((t: { id: number }) => t.id)).toEqual([live.id, groupToken.id]);
      const inactive = await call('GET', '/api/v4/deploy_tokens?active=false', admin.token);
      expect(inactive.json().map((t: { id: number }) => t.id)).toEqual([revoked.id]);
      expect((await call('GET', '/api/v4/deploy_tokens', maintainer.token)).status).toBe(403);
      expect((await call('GET', '/api/v4/deploy_tokens', null)).status).toBe(401);
      expect((await call('GET', '/api/v4/deploy_tokens?active=perhaps', admin.token)).json()).toEqual({ error: 'active is invalid' });
    });

    it('shows one project deploy token to Maintainers: 403 to a Developer, 404 to a non-member', async () => {
      const url = `/api/v4/projects/${project.id}/deploy_tokens/${live.id}`;
      const res = await call('GET', url, maintainer.token);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ id: live.id, username: `gitlab+deploy-token-${live.id}`, revoked: false });
      expect(res.json().token).toBeUndefined();
      expect((await call('GET', url, developer.token)).status).toBe(403);
      expect((await call('GET', url, outsider.token)).json()).toEqual({ message: '404 Project Not Found' });
      expect((await call('GET', url, null)).status).toBe(401);
      const other = await call('GET', `/api/v4/projects/${project.id}/deploy_tokens/${groupToken.id}`, maintainer.token);
      expect([other.status, other.json()]).toEqual([404, { message: '404 Not found' }]);
      const active = await call('GET', `/api/v4/projects/${project.id}/deploy_tokens?active=true`, maintainer.token);
      expect(active.json().map((t: { id: number }) => t.id)).toEqual([live.id]);
    });

    it('lists and shows group deploy tokens to the group’s Maintainers', async () => {
      const list = await call('GET', `/api/v4/groups/${group.id}/deploy_tokens`, maintainer.token);
      expect(list.status).toBe(200);
      expect(list.headers['x-total']).toBe('1');
      expect(list.json().map((t: { id: number }) => t.id)).toEqual([groupToken.id]);
      const one = await call('GET', `/api/v4/groups/${group.id}/deploy_tokens/${groupToken.id}`, maintainer.token);
      expect(one.json()).toMatchObject({ id: groupToken.id, scopes: ['read_package_registry'] });
      expect((await call('GET', `/api/v4/groups/${group.id}/deploy_tokens/${live.id}`, maintainer.token)).status).toBe(404);
      expect((await call('GET', `/api/v4/groups/${group.id}/deploy_tokens`, developer.token)).status).toBe(403);
      expect((await call('GET', `/api/v4/groups/${group.id}/deploy_tokens`, outsider.token)).json()).toEqual({
        message: '404 Group Not Found',
      });
    });
  });
});
