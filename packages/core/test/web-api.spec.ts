import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, TokensService } from '../src';
import { genericFormat } from './generic-fixture';

// The REST endpoints the web UI reads beyond the Packages API: GET /projects, a project's
// permissions, GET /packages across projects, a package's overview, one's own tokens, a
// project's deploy tokens and the admin's view of the instance.

describe.each(testModes())('API for the web UI (%s)', (mode) => {
  let s: TestServer;
  let pub: TestProject;
  let priv: TestProject;
  let reporter: TestUser;
  let stranger: TestUser;

  const get = (url: string, token?: string) => s.api.inject({ url, token });
  const put = async (project: TestProject, path: string) => {
    const res = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/packages/generic/${path}`,
      token: s.rootToken,
      payload: Buffer.from(path),
    });
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: false });
    const group = await s.api.createGroup('org', { visibility: 'public' });
    pub = await s.api.createProject('shown', { namespaceId: group.id, visibility: 'public' });
    priv = await s.api.createProject('hidden', { namespaceId: group.id, visibility: 'private' });
    reporter = await s.api.createUser('rep');
    stranger = await s.api.createUser('stranger');
    await s.api.addMember({ project: priv.id }, reporter.id, AccessLevel.REPORTER);
    await put(pub, 'public-tool/1.0.0/a.bin');
    await put(priv, 'private-tool/1.0.0/b.bin');
    await put(priv, 'private-tool/2.0.0/b.bin');
  });
  afterAll(() => s?.close());

  it('GET /projects lists what the caller may read, with search and pages', async () => {
    const paths = async (token?: string, q = '') =>
      (await get(`/api/v4/projects${q}`, token))
        .json<{ path_with_namespace: string }[]>()
        .map((p) => p.path_with_namespace)
        .sort();
    expect(await paths()).toEqual(['org/shown']);
    expect(await paths(stranger.token)).toEqual(['org/shown']);
    expect(await paths(reporter.token)).toEqual(['org/hidden', 'org/shown']);
    expect(await paths(reporter.token, '?search=hid')).toEqual(['org/hidden']);
    expect(await paths(reporter.token, '?search=%25')).toEqual([]);
    const page = await get('/api/v4/projects?per_page=1&order_by=name&sort=asc', s.rootToken);
    expect(page.headers['x-total']).toBe('2');
    expect(page.json<{ name: string }[]>().map((p) => p.name)).toEqual(['hidden']);
    expect((await get('/api/v4/projects?order_by=nope')).status).toBe(400);
  });

  it('GET /projects/:id tells a signed-in caller its access level', async () => {
    const mine = await get(`/api/v4/projects/${priv.id}`, reporter.token);
    expect(mine.json()).toMatchObject({ permissions: { project_access: { access_level: AccessLevel.REPORTER }, group_access: null } });
    expect((await get(`/api/v4/projects/${pub.id}`, stranger.token)).json()).toMatchObject({ permissions: { project_access: null } });
    expect((await get(`/api/v4/projects/${pub.id}`)).json()).not.toHaveProperty('permissions');
    expect((await get(`/api/v4/projects/${encodeURIComponent('org/hidden')}`, stranger.token)).status).toBe(404);
  });

  it('GET /packages searches every package the caller may list', async () => {
    const names = async (token?: string, q = '') =>
      (await get(`/api/v4/packages${q}`, token))
        .json<{ name: string; version: string; project_path: string }[]>()
        .map((p) => `${p.project_path}:${p.name}@${p.version}`)
        .sort();
    expect(await names()).toEqual(['org/shown:public-tool@1.0.0']);
    expect(await names(stranger.token)).toEqual(['org/shown:public-tool@1.0.0']);
    expect(await names(reporter.token, '?package_name=private')).toEqual([
      'org/hidden:private-tool@1.0.0',
      'org/hidden:private-tool@2.0.0',
    ]);
    const deploy = await s.api.createDeployToken({ project: priv.id }, ['read_package_registry']);
    const viaDeploy = await s.api.inject({ url: '/api/v4/packages?package_name=private', headers: { 'deploy-token': deploy.token } });
    expect(viaDeploy.json<unknown[]>()).toHaveLength(2);
  });

  it("a package's overview: the format's facts and commands (generic: a curl per file)", async () => {
    const [pkg] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${pub.id}/packages`);
    const res = await get(`/api/v4/projects/${pub.id}/packages/${pkg.id}/overview`);
    expect(res.status).toBe(200);
    const overview = res.json<{ instructions: { code: string }[]; readme: string | null }>();
    expect(overview.readme).toBeNull();
    expect(Array.isArray(overview.instructions)).toBe(true);
    const [secretPkg] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${priv.id}/packages`);
    expect((await get(`/api/v4/projects/${priv.id}/packages/${secretPkg.id}/overview`, stranger.token)).status).toBe(404);
    expect((await get(`/api/v4/projects/${priv.id}/packages/${secretPkg.id}/overview`)).status).toBe(404);
  });

  it("creates, lists and revokes one's own tokens; an admin may list anyone's", async () => {
    const created = await s.api.inject({
      method: 'POST',
      url: '/api/v4/user/personal_access_tokens',
      token: stranger.token,
      payload: { name: 'laptop', scopes: ['read_api'] },
    });
    expect(created.status).toBe(201);
    const token = created.json<{ id: number; token: string; user_id: number }>();
    expect(token.user_id).toBe(stranger.id);
    expect((await get('/api/v4/user', token.token)).json<{ username: string }>().username).toBe('stranger');

    const derived = await s.app
      .get(TokensService)
      .create({ kind: 'personal', name: 'conan login', scopes: ['api'], userId: stranger.id, parentId: token.id });
    const mine = (await get('/api/v4/personal_access_tokens', stranger.token)).json<{ id: number; user_id: number; token?: string }[]>();
    expect(mine.map((t) => t.id)).not.toContain(derived.token.id);
    expect(mine.map((t) => t.user_id)).toEqual(mine.map(() => stranger.id));
    expect(mine.map((t) => t.id)).toContain(token.id);
    expect(mine.every((t) => t.token === undefined)).toBe(true);
    expect((await get(`/api/v4/personal_access_tokens?user_id=${reporter.id}`, stranger.token)).status).toBe(401);
    const byAdmin = (await get(`/api/v4/personal_access_tokens?user_id=${stranger.id}`, s.rootToken)).json<{ id: number }[]>();
    expect(byAdmin.map((t) => t.id)).toEqual(mine.map((t) => t.id));

    const bad = await s.api.inject({
      method: 'POST',
      url: '/api/v4/user/personal_access_tokens',
      token: stranger.token,
      payload: { name: 'x', scopes: ['sudo'] },
    });
    expect(bad.status).toBe(400);
    for (const [expires_at, error] of [
      ['2000-01-01', 'expires_at must be in the future'],
      ['2099-02-30', 'expires_at is invalid'],
      ['tomorrow', 'expires_at is invalid'],
    ]) {
      const res = await s.api.inject({
        method: 'POST',
        url: '/api/v4/user/personal_access_tokens',
        token: stranger.token,
        payload: { name: 'x', scopes: ['api'], expires_at },
      });
      expect([res.status, res.json()]).toEqual([400, { error }]);
    }
    const readOnly = await s.api.inject({
      method: 'POST',
      url: '/api/v4/user/personal_access_tokens',
      token: token.token,
      payload: { name: 'y', scopes: ['api'] },
    });
    expect(readOnly.status).toBe(403);

    expect(
      (await s.api.inject({ method: 'DELETE', url: `/api/v4/personal_access_tokens/${token.id}`, token: stranger.token })).status,
    ).toBe(204);
    const after = (await get('/api/v4/personal_access_tokens?revoked=true', stranger.token)).json<{ id: number }[]>();
    expect(after.map((t) => t.id)).toEqual([token.id]);
  });

  it("lists a project's deploy tokens to its Maintainers only, never their secrets", async () => {
    const made = await s.api.createDeployToken({ project: priv.id }, ['read_package_registry']);
    const list = await get(`/api/v4/projects/${priv.id}/deploy_tokens`, s.rootToken);
    expect(list.status).toBe(200);
    const tokens = list.json<{ id: number; token?: string; scopes: string[] }[]>();
    expect(tokens.map((t) => t.id)).toContain(made.id);
    expect(tokens.every((t) => t.token === undefined)).toBe(true);
    expect((await get(`/api/v4/projects/${priv.id}/deploy_tokens`, reporter.token)).status).toBe(403);
    expect((await get(`/api/v4/projects/${priv.id}/deploy_tokens`, stranger.token)).status).toBe(404);
  });

  it("the admin's view: formats, bytes per store, background jobs; 403 for anyone else", async () => {
    const res = await get('/api/v4/application/packages', s.rootToken);
    expect(res.status).toBe(200);
    const body = res.json<{ formats: { name: string }[]; stores: { kind: string; blobs: number; bytes: number }[]; jobs: object }>();
    expect(body.formats.map((f) => f.name)).toEqual(['generic']);
    const local = body.stores.find((st) => st.kind === 'local')!;
    expect(local.blobs).toBeGreaterThanOrEqual(3);
    expect(local.bytes).toBeGreaterThanOrEqual('public-tool/1.0.0/a.bin'.length);
    expect(body.jobs).toEqual({ waiting: expect.any(Number), active: expect.any(Number), failed: expect.any(Number) });
    expect(res.json<{ migration: unknown }>().migration).toBeNull(); // no `packages migrate` has run (storage-s3's migration spec runs one)
    expect((await get('/api/v4/application/packages', reporter.token)).status).toBe(403);
    expect((await get('/api/v4/application/packages')).status).toBe(401);
  });
});
