import { createHash } from 'node:crypto';

import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel } from '../src/auth/access-level';
import { TokensService } from '../src/auth/tokens.service';
import { createLogger } from '../src/http/logger';

// The admin REST surface in GitLab's shapes (issue 2, item 6): groups, projects, users,
// personal access tokens, members, deploy tokens, GET /user; the root bootstrap
// (STOWAGE_ROOT_TOKEN or a generated token announced once); and no secret in the logs.

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

describe.each(testModes())('admin REST API (%s)', (mode) => {
  let s: TestServer;
  let alice: TestUser; // owner of group "team" (created it)
  let bob: TestUser; // developer in "team"
  let carol: TestUser; // member of nothing
  let team: { id: number; full_path: string };
  const secrets: string[] = [];

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false });
    alice = await s.api.createUser('alice');
    bob = await s.api.createUser('bob');
    carol = await s.api.createUser('carol');
    secrets.push(s.rootToken, alice.token, bob.token, carol.token);
    const res = await call('POST', '/api/v4/groups', alice.token, { name: 'Team', path: 'team', visibility: 'private' });
    expect(res.status).toBe(201);
    team = res.json();
    await s.api.addMember({ group: team.id }, bob.id, AccessLevel.DEVELOPER);
  });
  afterAll(() => s?.close());

  describe('root', () => {
    it('STOWAGE_ROOT_TOKEN is an api-scoped token of the admin user root', async () => {
      const me = await call('GET', '/api/v4/user', s.rootToken);
      expect(me.status).toBe(200);
      expect(me.json()).toMatchObject({ username: 'root', is_admin: true, state: 'active' });
      const self = await call('GET', '/api/v4/personal_access_tokens/self', s.rootToken);
      expect(self.json()).toMatchObject({ scopes: ['api'], active: true, revoked: false });
      expect(self.json().token).toBeUndefined();
    });
  });

  describe('POST /groups', () => {
    it('creates a group and its creator owns it', async () => {
      expect(team).toMatchObject({ name: 'Team', path: 'team', full_path: 'team', parent_id: null, visibility: 'private' });
      expect(typeof team.id).toBe('number');
      const shown = await call('GET', `/api/v4/groups/${team.id}`, alice.token);
      expect(shown.status).toBe(200);
      expect(shown.json()).toMatchObject({ id: team.id, full_path: 'team' });
    });

    it('nests a group under parent_id, addressable by its URL-encoded full path', async () => {
      const res = await call('POST', '/api/v4/groups', alice.token, { name: 'Sub Team', path: 'sub', parent_id: team.id });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ path: 'sub', full_path: 'team/sub', parent_id: team.id, full_name: 'team / sub' });
      const byPath = await call('GET', `/api/v4/groups/${encodeURIComponent('team/sub')}`, alice.token);
      expect(byPath.status).toBe(200);
      expect(byPath.json().id).toBe(res.json().id);
    });

    it('refuses a subgroup to a developer of the parent (403) and hides a private group from outsiders (404)', async () => {
      const dev = await call('POST', '/api/v4/groups', bob.token, { name: 'x', path: 'x', parent_id: team.id });
      expect(dev.status).toBe(403);
      expect(dev.json()).toEqual({ message: '403 Forbidden' });
      const outsider = await call('POST', '/api/v4/groups', carol.token, { name: 'x', path: 'x', parent_id: team.id });
      expect(outsider.status).toBe(404);
      expect(outsider.json()).toEqual({ message: '404 Group Not Found' });
      expect((await call('GET', `/api/v4/groups/${team.id}`, carol.token)).status).toBe(404);
    });

    it('answers a taken path and bad parameters with 400 in GitLab’s shapes', async () => {
      const dup = await call('POST', '/api/v4/groups', alice.token, { name: 'Team again', path: 'team' });
      expect(dup.status).toBe(400);
      expect(dup.json()).toMatchObject({ message: { path: ['has already been taken'] } });
      const missing = await call('POST', '/api/v4/groups', alice.token, { path: 'nameless' });
      expect(missing.status).toBe(400);
      expect(missing.json()).toEqual({ error: 'name is missing' });
      const vis = await call('POST', '/api/v4/groups', alice.token, { name: 'v', path: 'v', visibility: 'secret' });
      expect(vis.status).toBe(400);
      expect(vis.json()).toEqual({ error: 'visibility does not have a valid value' });
      const badPath = await call('POST', '/api/v4/groups', alice.token, { name: 'bad', path: '-bad' });
      expect(badPath.status).toBe(400);
      expect(badPath.json().message.path[0]).toMatch(/can contain only/);
    });
  });

  describe('POST /projects and PUT /projects/:id', () => {
    let project: { id: number; path_with_namespace: string };
    let studio: { id: number }; // an internal group: it may hold internal projects

    beforeAll(async () => {
      studio = (await call('POST', '/api/v4/groups', alice.token, { name: 'Studio', path: 'studio', visibility: 'internal' })).json();
      await s.api.addMember({ group: studio.id }, bob.id, AccessLevel.DEVELOPER);
      const res = await call('POST', '/api/v4/projects', alice.token, {
        name: 'Widgets',
        path: 'widgets',
        namespace_id: studio.id,
        visibility: 'internal',
      });
      expect(res.status).toBe(201);
      project = res.json();
    });

    it('creates a project in a namespace with name, path and visibility', async () => {
      expect(project).toMatchObject({
        name: 'Widgets',
        path: 'widgets',
        path_with_namespace: 'studio/widgets',
        name_with_namespace: 'Studio / Widgets',
        visibility: 'internal',
        packages_enabled: true,
        namespace: { id: studio.id, full_path: 'studio', kind: 'group' },
      });
      const byPath = await call('GET', `/api/v4/projects/${encodeURIComponent('studio/widgets')}`, carol.token);
      expect(byPath.status).toBe(200); // internal: any signed-in user
      expect(byPath.json().id).toBe(project.id);
      expect((await call('GET', `/api/v4/projects/${project.id}`, null)).status).toBe(404);
    });

    it('defaults to a private project in the caller’s personal namespace, path derived from the name', async () => {
      const res = await call('POST', '/api/v4/projects', carol.token, { name: 'My Tools' });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({
        path: 'my-tools',
        path_with_namespace: 'carol/my-tools',
        visibility: 'private',
        namespace: { kind: 'user' },
      });
      expect((await call('GET', `/api/v4/projects/${res.json().id}`, bob.token)).status).toBe(404);
    });

    it('answers a duplicate path with 400 and GitLab’s message shape', async () => {
      const dup = await call('POST', '/api/v4/projects', alice.token, { name: 'Widgets 2', path: 'widgets', namespace_id: studio.id });
      expect(dup.status).toBe(400);
      expect(dup.json()).toMatchObject({ message: { path: ['has already been taken'] } });
      const missing = await call('POST', '/api/v4/projects', alice.token, { namespace_id: team.id });
      expect(missing.status).toBe(400);
      expect(missing.json().error).toMatch(/is missing/);
    });

    it('lets only maintainers of the namespace create projects in a group', async () => {
      const dev = await call('POST', '/api/v4/projects', bob.token, { name: 'b', path: 'b', namespace_id: team.id });
      expect(dev.status).toBe(403);
      const outsider = await call('POST', '/api/v4/projects', carol.token, { name: 'c', path: 'c', namespace_id: team.id });
      expect(outsider.status).toBe(404);
    });

    it('PUT updates packages_enabled, visibility and name; needs maintainer', async () => {
      const url = `/api/v4/projects/${project.id}`;
      const byDev = await call('PUT', url, bob.token, { packages_enabled: false });
      expect(byDev.status).toBe(403);
      expect(byDev.json()).toEqual({ message: '403 Forbidden' });
      const byOutsider = await call('PUT', url, carol.token, { packages_enabled: false });
      expect(byOutsider.status).toBe(403); // internal: visible, but not theirs

      const res = await call('PUT', url, alice.token, { packages_enabled: false, visibility: 'private', name: 'Widgets Renamed' });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({
        id: project.id,
        packages_enabled: false,
        visibility: 'private',
        name: 'Widgets Renamed',
        path: 'widgets',
      });
      expect((await call('GET', url, alice.token)).json()).toMatchObject({ packages_enabled: false, visibility: 'private' });
      expect((await call('GET', url, carol.token)).status).toBe(404); // private now
      expect((await call('PUT', url, carol.token, { packages_enabled: true })).status).toBe(404);
      const bad = await call('PUT', url, alice.token, { visibility: 'everyone' });
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'visibility does not have a valid value' });
    });

    it('refuses a project more visible than its group, on create and on update, in GitLab’s words', async () => {
      const pub = await call('POST', '/api/v4/projects', alice.token, { name: 'leak', namespace_id: team.id, visibility: 'public' });
      expect(pub.status).toBe(400);
      expect(pub.json()).toEqual({ message: { visibility_level: ['public is not allowed in a private group.'] } });
      const internal = await call('POST', '/api/v4/projects', alice.token, { name: 'leak', namespace_id: team.id, visibility: 'internal' });
      expect(internal.json()).toEqual({ message: { visibility_level: ['internal is not allowed in a private group.'] } });
      expect((await call('GET', `/api/v4/projects/${encodeURIComponent('team/leak')}`, alice.token)).status).toBe(404); // nothing made

      const inStudio = await call('POST', '/api/v4/projects', alice.token, {
        name: 'gadgets',
        namespace_id: studio.id,
        visibility: 'public',
      });
      expect(inStudio.status).toBe(400);
      expect(inStudio.json()).toEqual({ message: { visibility_level: ['public is not allowed in a internal group.'] } });

      const priv = (await call('POST', '/api/v4/projects', alice.token, { name: 'quiet', namespace_id: team.id })).json();
      const made = await call('PUT', `/api/v4/projects/${priv.id}`, alice.token, { visibility: 'public', name: 'Loud' });
      expect(made.status).toBe(400);
      expect(made.json()).toEqual({ message: { visibility_level: ['public is not allowed in a private group.'] } });
      const after = (await call('GET', `/api/v4/projects/${priv.id}`, alice.token)).json();
      expect(after).toMatchObject({ visibility: 'private', name: 'quiet' }); // nothing of the update applied
      expect((await call('GET', `/api/v4/projects/${priv.id}`, null)).status).toBe(404);
    });

    it('a user’s own namespace takes projects of any visibility', async () => {
      const res = await call('POST', '/api/v4/projects', carol.token, { name: 'Open Tools', visibility: 'public' });
      expect(res.status).toBe(201);
      expect((await call('GET', `/api/v4/projects/${res.json().id}`, null)).status).toBe(200);
    });
  });

  describe('group visibility', () => {
    it('refuses a subgroup more visible than its parent, in GitLab’s words', async () => {
      const res = await call('POST', '/api/v4/groups', alice.token, {
        name: 'Open',
        path: 'open',
        parent_id: team.id,
        visibility: 'public',
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({
        message: { visibility_level: ['public is not allowed since the parent group has a private visibility.'] },
      });
      expect((await call('GET', `/api/v4/groups/${encodeURIComponent('team/open')}`, alice.token)).status).toBe(404);
      const internalParent = (
        await call('POST', '/api/v4/groups', alice.token, { name: 'Mid', path: 'mid', visibility: 'internal' })
      ).json();
      const under = await call('POST', '/api/v4/groups', alice.token, {
        name: 'Top',
        path: 'top',
        parent_id: internalParent.id,
        visibility: 'public',
      });
      expect(under.json()).toEqual({
        message: { visibility_level: ['public is not allowed since the parent group has a internal visibility.'] },
      });
      const ok = await call('POST', '/api/v4/groups', alice.token, {
        name: 'Inner',
        path: 'inner',
        parent_id: internalParent.id,
        visibility: 'internal',
      });
      expect(ok.status).toBe(201);
    });
  });

  describe('POST /users and personal access tokens', () => {
    it('creates users as admin only', async () => {
      const res = await call('POST', '/api/v4/users', s.rootToken, { username: 'dave', name: 'Dave D', email: 'dave@example.com' });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ username: 'dave', name: 'Dave D', state: 'active', email: 'dave@example.com', is_admin: false });
      const byUser = await call('POST', '/api/v4/users', alice.token, { username: 'eve', name: 'Eve' });
      expect(byUser.status).toBe(403);
      expect(byUser.json()).toEqual({ message: '403 Forbidden' });
      const dup = await call('POST', '/api/v4/users', s.rootToken, { username: 'Dave', name: 'Dave again' });
      expect(dup.status).toBe(409);
      expect(dup.json()).toEqual({ message: 'Username has already been taken' });
      const missing = await call('POST', '/api/v4/users', s.rootToken, { name: 'No Username' });
      expect(missing.status).toBe(400);
      expect(missing.json()).toEqual({ error: 'username is missing' });
      expect((await call('POST', '/api/v4/users', null, { username: 'anon', name: 'Anon' })).status).toBe(401);
    });

    it('issues a token once, to admins only, and stores only its sha256 digest', async () => {
      const url = `/api/v4/users/${carol.id}/personal_access_tokens`;
      const res = await call('POST', url, s.rootToken, {
        name: 'ci',
        scopes: ['read_api', 'read_package_registry'],
        expires_at: '2099-01-31',
      });
      expect(res.status).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({
        name: 'ci',
        scopes: ['read_api', 'read_package_registry'],
        user_id: carol.id,
        active: true,
        revoked: false,
        expires_at: '2099-01-31',
      });
      expect(typeof body.token).toBe('string');
      expect(body.token.length).toBeGreaterThanOrEqual(20);
      secrets.push(body.token);

      const me = await call('GET', '/api/v4/user', body.token);
      expect(me.status).toBe(200);
      expect(me.json()).toMatchObject({ id: carol.id, username: 'carol' });
      const self = await call('GET', '/api/v4/personal_access_tokens/self', body.token);
      expect(self.json()).toMatchObject({ id: body.id, name: 'ci' });
      expect(self.json().token).toBeUndefined();

      const selfService = await call('POST', url, carol.token, { name: 'mine', scopes: ['api'] });
      expect(selfService.status).toBe(403);
      expect(selfService.json()).toEqual({ message: '403 Forbidden' });
      expect(
        (await call('POST', '/api/v4/users/999999/personal_access_tokens', s.rootToken, { name: 'x', scopes: ['api'] })).json(),
      ).toEqual({
        message: '404 User Not Found',
      });
      const badScope = await call('POST', url, s.rootToken, { name: 'x', scopes: ['sudo_everything'] });
      expect(badScope.status).toBe(400);
      expect(badScope.json()).toEqual({ error: 'scopes does not have a valid value' });
      const noScope = await call('POST', url, s.rootToken, { name: 'x' });
      expect(noScope.status).toBe(400);
      expect(noScope.json()).toEqual({ error: 'scopes is missing' });

      // At rest: a digest per token, and no secret anywhere in the table.
      const rows: Record<string, unknown>[] = await s.app.get(DataSource).query('SELECT * FROM tokens');
      const dump = JSON.stringify(rows);
      for (const secret of secrets) {
        expect(dump).not.toContain(secret);
        expect(rows.some((r) => r.digest === digest(secret))).toBe(true);
      }
    });

    it('limits a token by its scopes on the REST API', async () => {
      const readApi = await s.api.createToken(alice.id, ['read_api']);
      const pkgOnly = await s.api.createToken(alice.id, ['read_package_registry']);
      expect((await call('GET', '/api/v4/user', readApi)).status).toBe(200);
      const write = await call('POST', '/api/v4/projects', readApi, { name: 'nope' });
      expect(write.status).toBe(403);
      expect(write.json()).toMatchObject({ error: 'insufficient_scope' });
      const read = await call('GET', '/api/v4/user', pkgOnly);
      expect(read.status).toBe(403);
      expect(read.json()).toMatchObject({ error: 'insufficient_scope' });
    });

    it('GET /user answers 401 without a valid personal token, and after the token is revoked', async () => {
      const anon = await call('GET', '/api/v4/user', null);
      expect(anon.status).toBe(401);
      expect(anon.json()).toEqual({ message: '401 Unauthorized' });
      expect((await call('GET', '/api/v4/user', 'stwpat-doesnotexist')).status).toBe(401);
      // The API refuses a token that is born expired; one that expired since is made directly.
      expect(
        (
          await call('POST', `/api/v4/users/${alice.id}/personal_access_tokens`, s.rootToken, {
            name: 'old',
            scopes: ['api'],
            expires_at: '2001-01-01',
          })
        ).status,
      ).toBe(400);
      const { secret: expired } = await s.app
        .get(TokensService)
        .create({ kind: 'personal', name: 'old', scopes: ['api'], userId: alice.id, expiresAt: new Date('2001-01-01') });
      expect((await call('GET', '/api/v4/user', expired)).status).toBe(401);
      const token = await s.api.createToken(alice.id, ['api']);
      expect((await call('DELETE', '/api/v4/personal_access_tokens/self', token)).status).toBe(204);
      expect((await call('GET', '/api/v4/user', token)).status).toBe(401);
    });
  });

  describe('members', () => {
    let project: { id: number };
    beforeAll(async () => {
      project = (await call('POST', '/api/v4/projects', alice.token, { name: 'members-p', namespace_id: team.id })).json();
    });

    it('adds a project member with an access level, in GitLab’s member shape', async () => {
      const res = await call('POST', `/api/v4/projects/${project.id}/members`, alice.token, {
        user_id: carol.id,
        access_level: AccessLevel.REPORTER,
      });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ id: carol.id, username: 'carol', access_level: 20, expires_at: null, state: 'active' });
      expect((await call('GET', `/api/v4/projects/${project.id}`, carol.token)).status).toBe(200);
      const again = await call('POST', `/api/v4/projects/${project.id}/members`, alice.token, { user_id: carol.id, access_level: 30 });
      expect(again.status).toBe(409);
      expect(again.json()).toEqual({ message: 'Member already exists' });
    });

    it('validates the request and the caller’s role', async () => {
      const url = `/api/v4/projects/${project.id}/members`;
      const level = await call('POST', url, alice.token, { user_id: carol.id, access_level: 31 });
      expect(level.status).toBe(400);
      expect(level.json()).toEqual({ error: 'access_level does not have a valid value' });
      const noUser = await call('POST', url, alice.token, { access_level: 30 });
      expect(noUser.json()).toEqual({ error: 'user_id is missing' });
      expect((await call('POST', url, alice.token, { user_id: 999999, access_level: 30 })).json()).toEqual({
        message: '404 User Not Found',
      });
      const byDev = await call('POST', url, bob.token, { user_id: alice.id, access_level: 30 });
      expect(byDev.status).toBe(403);
    });

    it('lets only owners grant Owner: a maintainer may not', async () => {
      const maintainer = await s.api.createUser('mallory');
      await s.api.addMember({ project: project.id }, maintainer.id, AccessLevel.MAINTAINER);
      const frank = await s.api.createUser('frank');
      const owner = await call('POST', `/api/v4/projects/${project.id}/members`, maintainer.token, { user_id: frank.id, access_level: 50 });
      expect(owner.status).toBe(403);
      const dev = await call('POST', `/api/v4/projects/${project.id}/members`, maintainer.token, { user_id: frank.id, access_level: 30 });
      expect(dev.status).toBe(201);
    });

    it('group membership is inherited by the projects below the group', async () => {
      const grace = await s.api.createUser('grace');
      expect((await call('GET', `/api/v4/projects/${project.id}`, grace.token)).status).toBe(404);
      const res = await call('POST', `/api/v4/groups/${team.id}/members`, alice.token, {
        user_id: grace.id,
        access_level: AccessLevel.GUEST,
      });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ id: grace.id, access_level: 10 });
      expect((await call('GET', `/api/v4/projects/${project.id}`, grace.token)).status).toBe(200);
      expect((await call('GET', `/api/v4/groups/${team.id}`, grace.token)).status).toBe(200);
      expect((await call('POST', `/api/v4/groups/${team.id}/members`, bob.token, { user_id: carol.id, access_level: 10 })).status).toBe(
        403,
      );
    });
  });

  describe('deploy tokens', () => {
    let project: { id: number };
    beforeAll(async () => {
      project = (await call('POST', '/api/v4/projects', alice.token, { name: 'deploy-p', namespace_id: team.id })).json();
    });

    it('creates a project deploy token: returns token and GitLab’s generated username', async () => {
      const res = await call('POST', `/api/v4/projects/${project.id}/deploy_tokens`, alice.token, {
        name: 'ci',
        scopes: ['read_package_registry'],
      });
      expect(res.status).toBe(201);
      const body = res.json();
      expect(body).toMatchObject({
        name: 'ci',
        username: `gitlab+deploy-token-${body.id}`,
        scopes: ['read_package_registry'],
        revoked: false,
        expired: false,
        expires_at: null,
      });
      expect(typeof body.token).toBe('string');
      secrets.push(body.token);
      const rows: { digest: string }[] = await s.app.get(DataSource).query('SELECT digest FROM tokens WHERE id = $1', [body.id]);
      expect(rows).toEqual([{ digest: digest(body.token) }]);
      // A deploy token is for package endpoints only.
      expect((await s.api.inject({ url: '/api/v4/user', headers: { 'deploy-token': body.token } })).status).toBe(401);
    });

    it('keeps a chosen username and expiry; creates group deploy tokens too', async () => {
      const res = await call('POST', `/api/v4/projects/${project.id}/deploy_tokens`, alice.token, {
        name: 'named',
        username: 'release-bot',
        scopes: ['read_package_registry', 'write_package_registry'],
        expires_at: '2099-06-01T00:00:00Z',
      });
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ username: 'release-bot', scopes: ['read_package_registry', 'write_package_registry'] });
      expect(new Date(res.json().expires_at).toISOString()).toBe('2099-06-01T00:00:00.000Z');
      const group = await call('POST', `/api/v4/groups/${team.id}/deploy_tokens`, alice.token, {
        name: 'g',
        scopes: ['write_package_registry'],
      });
      expect(group.status).toBe(201);
      expect(group.json()).toMatchObject({ username: `gitlab+deploy-token-${group.json().id}`, scopes: ['write_package_registry'] });
      expect(typeof group.json().token).toBe('string');
    });

    it('validates scopes and needs maintainer', async () => {
      const url = `/api/v4/projects/${project.id}/deploy_tokens`;
      const missing = await call('POST', url, alice.token, { name: 'x' });
      expect(missing.status).toBe(400);
      expect(missing.json()).toEqual({ error: 'scopes is missing' });
      const bad = await call('POST', url, alice.token, { name: 'x', scopes: ['api'] });
      expect(bad.status).toBe(400);
      expect(bad.json()).toEqual({ error: 'scopes does not have a valid value' });
      expect((await call('POST', url, bob.token, { name: 'x', scopes: ['read_package_registry'] })).status).toBe(403);
      expect((await call('POST', url, carol.token, { name: 'x', scopes: ['read_package_registry'] })).status).toBe(404);
      expect(
        (await call('POST', `/api/v4/groups/${team.id}/deploy_tokens`, bob.token, { name: 'x', scopes: ['read_package_registry'] })).status,
      ).toBe(403);
    });

    it('group deploy tokens are the Owner’s: a maintainer may neither create nor revoke one (project ones need Maintainer)', async () => {
      const maintainer = await s.api.createUser('gmaint');
      await s.api.addMember({ group: team.id }, maintainer.id, AccessLevel.MAINTAINER);
      const byMaintainer = await call('POST', `/api/v4/groups/${team.id}/deploy_tokens`, maintainer.token, {
        name: 'm',
        scopes: ['read_package_registry'],
      });
      expect(byMaintainer.status).toBe(403);
      expect(byMaintainer.json()).toEqual({ message: '403 Forbidden' });
      const byOwner = await call('POST', `/api/v4/groups/${team.id}/deploy_tokens`, alice.token, {
        name: 'o',
        scopes: ['read_package_registry'],
      });
      expect(byOwner.status).toBe(201);
      const revokeUrl = `/api/v4/groups/${team.id}/deploy_tokens/${byOwner.json().id}`;
      expect((await call('DELETE', revokeUrl, maintainer.token)).status).toBe(403);
      expect((await call('DELETE', revokeUrl, alice.token)).status).toBe(204);
      // A project maintainer (inherited from the group) still manages the project's deploy tokens.
      const inProject = await call('POST', `/api/v4/projects/${project.id}/deploy_tokens`, maintainer.token, {
        name: 'p',
        scopes: ['read_package_registry'],
      });
      expect(inProject.status).toBe(201);
    });
  });

  describe('job tokens', () => {
    it('a developer mints a short-lived job token for one project; a bad lifetime is 400', async () => {
      const project = (await call('POST', '/api/v4/projects', alice.token, { name: 'jobs-p', namespace_id: team.id })).json();
      const res = await call('POST', `/api/v4/projects/${project.id}/job_tokens`, bob.token, {});
      expect(res.status).toBe(201);
      expect(res.json()).toMatchObject({ project_id: project.id, user_id: bob.id });
      const lifetime = new Date(res.json().expires_at).getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(3500_000);
      expect(lifetime).toBeLessThanOrEqual(3600_000);
      const tooLong = await call('POST', `/api/v4/projects/${project.id}/job_tokens`, bob.token, { expires_in: 999999 });
      expect(tooLong.status).toBe(400);
      expect(tooLong.json().error).toMatch(/^expires_in /);
      expect((await call('POST', `/api/v4/projects/${project.id}/job_tokens`, carol.token, {})).status).toBe(404);
    });
  });
});

describe.each(testModes())('root bootstrap and secrets in logs (%s)', (mode) => {
  let s: TestServer;
  const announced: string[] = [];
  const log: string[] = [];
  const logText = () => log.join('');
  const logger = createLogger('info', { write: (line: string) => void log.push(line) });
  let generated: string;

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, rootToken: null, announce: (m) => announced.push(m), logger });
  });
  afterAll(() => s?.close());

  it('without STOWAGE_ROOT_TOKEN, generates root’s token and announces it once, outside the log', async () => {
    expect(announced).toHaveLength(1);
    const match = /(stwpat-\S+)/.exec(announced[0]);
    expect(match).not.toBeNull();
    generated = match![1];
    const me = await s.api.inject({ url: '/api/v4/user', token: generated });
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ username: 'root', is_admin: true });
    expect(logText()).toContain('created the admin user root');
    expect(logText()).not.toContain(generated);
  });

  it('a second start announces nothing, and the generated token still works', async () => {
    await s.restart({ rootToken: null });
    expect(announced).toHaveLength(1);
    expect((await s.api.inject({ url: '/api/v4/user', token: generated })).status).toBe(200);
  });

  it('a start with STOWAGE_ROOT_TOKEN on an existing install adds that token to root', async () => {
    const chosen = 'stwpat-chosen-by-the-operator-0123456789';
    expect((await s.api.inject({ url: '/api/v4/user', token: chosen })).status).toBe(401);
    await s.restart({ rootToken: chosen });
    expect(announced).toHaveLength(1);
    const me = await s.api.inject({ url: '/api/v4/user', token: chosen });
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ username: 'root', is_admin: true });
    expect((await s.api.inject({ url: '/api/v4/user', token: generated })).status).toBe(200);
    expect(logText()).not.toContain(chosen);
  });

  it('never writes a token secret to the log, whichever way it is sent', async () => {
    const user = (
      await s.api.inject({ method: 'POST', url: '/api/v4/users', token: generated, payload: { username: 'logged', name: 'Logged' } })
    ).json();
    const created = await s.api.inject({
      method: 'POST',
      url: `/api/v4/users/${user.id}/personal_access_tokens`,
      token: generated,
      payload: { name: 'log-test', scopes: ['api'] },
    });
    const pat: string = created.json().token;
    const project = (await s.api.inject({ method: 'POST', url: '/api/v4/projects', token: pat, payload: { name: 'logp' } })).json();
    const dt = (
      await s.api.inject({
        method: 'POST',
        url: `/api/v4/projects/${project.id}/deploy_tokens`,
        token: pat,
        payload: { name: 'd', scopes: ['read_package_registry'] },
      })
    ).json();
    const job = (await s.api.inject({ method: 'POST', url: `/api/v4/projects/${project.id}/job_tokens`, token: pat, payload: {} })).json();
    const wrong = 'stwpat-wrongButSecret-9876543210abcdef';
    const basic = (secret: string) => `Basic ${Buffer.from(`someone:${secret}`).toString('base64')}`;
    const before = log.length;

    const requests: { url: string; headers?: Record<string, string> }[] = [
      { url: '/api/v4/user', headers: { 'private-token': pat } },
      { url: '/api/v4/user', headers: { authorization: basic(pat) } },
      { url: '/api/v4/user', headers: { authorization: `Bearer ${pat}` } },
      { url: `/api/v4/user?private_token=${pat}` },
      { url: `/api/v4/user?per_page=5&private_token=${encodeURIComponent(pat)}&page=1` },
      { url: '/api/v4/user', headers: { 'private-token': wrong } },
      { url: `/api/v4/user?private_token=${wrong}` },
      { url: `/api/v4/projects/${project.id}`, headers: { 'deploy-token': dt.token } },
      { url: `/api/v4/projects/${project.id}`, headers: { 'job-token': job.token } },
      { url: `/api/v4/projects/${project.id}?job_token=${job.token}` },
      { url: `/api/v4/projects/${project.id}`, headers: { authorization: basic(job.token) } },
    ];
    for (const r of requests) await s.api.inject({ url: r.url, headers: r.headers });

    const text = log.slice(before).join('');
    // The requests were logged (with their URLs, token parameters blanked) …
    expect(text).toContain('/api/v4/user');
    expect(text).toContain('private_token=[redacted]');
    expect(text).toContain('job_token=[redacted]');
    // … and no secret, nor its Basic encoding, is anywhere in the whole log.
    const all = logText();
    for (const secret of [pat, generated, dt.token, job.token, wrong]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(encodeURIComponent(secret));
      expect(all).not.toContain(basic(secret).slice(6));
    }
  });
});
