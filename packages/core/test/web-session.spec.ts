import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, TokensService } from '../src';
import { genericFormat } from './generic-fixture';

// The web UI's sign-in (POST/GET/DELETE /-/session): a personal access token is exchanged for
// an httpOnly, SameSite=Strict session cookie; changes made with the cookie need its CSRF token.

describe.each(testModes())('web sessions (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;
  let maintainer: TestUser;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: false });
    const group = await s.api.createGroup('web');
    project = await s.api.createProject('app', { namespaceId: group.id, visibility: 'private' });
    maintainer = await s.api.createUser('maint');
    await s.api.addMember({ project: project.id }, maintainer.id, AccessLevel.MAINTAINER);
  });
  afterAll(() => s?.close());

  const signIn = async (token: string) => {
    const res = await s.api.inject({ method: 'POST', url: '/-/session', payload: { token } });
    const setCookie = String(res.headers['set-cookie'] ?? '');
    const cookie = /stowage_session=([^;]*)/.exec(setCookie)?.[1] ?? '';
    return {
      res,
      setCookie,
      cookie: `stowage_session=${cookie}`,
      csrf: res.status === 201 ? res.json<{ csrf_token: string }>().csrf_token : '',
    };
  };
  const withCookie = (
    cookie: string,
    url: string,
    method: 'GET' | 'DELETE' | 'PUT' | 'POST' = 'GET',
    headers: Record<string, string> = {},
  ) => s.api.inject({ method, url, headers: { cookie, ...headers } });
  const upload = async (version: string) => {
    const res = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/packages/generic/tool/${version}/tool.bin`,
      token: s.rootToken,
      payload: Buffer.from(`tool ${version}`),
    });
    expect(res.status).toBe(201);
    const [pkg] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${project.id}/packages?package_version=${version}`);
    return pkg.id;
  };

  it('signs in with a personal access token: an httpOnly, SameSite=Strict cookie that is not the token', async () => {
    const { res, setCookie, cookie } = await signIn(maintainer.token);
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({
      user: { id: maintainer.id, username: 'maint', name: expect.any(String), is_admin: false },
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // http://: a Secure cookie would never come back
    expect(cookie).not.toContain(maintainer.token);

    const me = await withCookie(cookie, '/api/v4/user');
    expect(me.status).toBe(200);
    expect(me.json<{ username: string }>().username).toBe('maint');
    const session = await withCookie(cookie, '/-/session');
    expect(session.json()).toEqual({
      user: expect.objectContaining({ username: 'maint' }),
      csrf_token: res.json<{ csrf_token: string }>().csrf_token,
    });
  });

  it('refuses a wrong token, a deploy token and an oversized body field', async () => {
    expect((await signIn('stwpat-not-a-real-token-at-all-000000')).res.status).toBe(401);
    const deploy = await s.api.createDeployToken({ project: project.id }, ['read_package_registry']);
    expect((await signIn(deploy.token)).res.status).toBe(401);
    expect((await signIn('x'.repeat(600))).res.status).toBe(400);
    const missing = await s.api.inject({ method: 'POST', url: '/-/session', payload: {} });
    expect(missing.status).toBe(400);
    expect((await withCookie('stowage_session=stwses-forged0000000000000000000000000', '/api/v4/user')).status).toBe(401);
    expect((await s.api.inject({ url: '/-/session' })).json()).toEqual({ user: null, csrf_token: null });
  });

  it('signs in from JSON only: a form another site posts cannot sign a visitor in', async () => {
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', `token=${maintainer.token}`],
      ['text/plain', JSON.stringify({ token: maintainer.token })],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="token"\r\n\r\n${maintainer.token}\r\n--x--\r\n`],
    ]) {
      const res = await s.api.inject({ method: 'POST', url: '/-/session', headers: { 'content-type': type }, payload });
      expect(res.status).toBe(415);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('a change made with the cookie needs the CSRF token (403 without it or with a wrong one)', async () => {
    const { cookie, csrf } = await signIn(maintainer.token);
    const id = await upload('1.0.0');
    const url = `/api/v4/projects/${project.id}/packages/${id}`;
    for (const headers of <Record<string, string>[]>[{}, { 'x-csrf-token': 'wrong' }, { 'x-csrf-token': csrf.slice(0, -1) }]) {
      const res = await withCookie(cookie, url, 'DELETE', headers);
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ message: '403 Forbidden - CSRF token missing or invalid' });
    }
    expect((await s.api.inject({ url, token: s.rootToken })).status).toBe(200);
    expect((await withCookie(cookie, url, 'DELETE', { 'x-csrf-token': csrf })).status).toBe(204);
    expect((await s.api.inject({ url, token: s.rootToken })).status).toBe(404);
  });

  it('the session is only ever the cookie, and the cookie only ever a session', async () => {
    const { cookie } = await signIn(maintainer.token);
    const secret = cookie.split('=')[1];
    expect((await s.api.inject({ url: '/api/v4/user', token: secret })).status).toBe(401);
    expect((await s.api.inject({ url: '/api/v4/user', headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
    expect((await withCookie(`stowage_session=${maintainer.token}`, '/api/v4/user')).status).toBe(401);
  });

  it('carries the scopes of the token it was made with', async () => {
    const readOnly = await s.api.createToken(maintainer.id, ['read_api']);
    const { cookie, csrf } = await signIn(readOnly);
    expect((await withCookie(cookie, `/api/v4/projects/${project.id}/packages`)).status).toBe(200);
    const id = await upload('2.0.0');
    const res = await withCookie(cookie, `/api/v4/projects/${project.id}/packages/${id}`, 'DELETE', { 'x-csrf-token': csrf });
    expect(res.status).toBe(403);
  });

  it('ends when the token it was made with is revoked', async () => {
    const token = await s.api.createToken(maintainer.id, ['api']);
    const { cookie } = await signIn(token);
    expect((await withCookie(cookie, '/api/v4/user')).status).toBe(200);
    const self = await s.api.inject({ method: 'DELETE', url: '/api/v4/personal_access_tokens/self', token });
    expect(self.status).toBe(204);
    expect((await withCookie(cookie, '/api/v4/user')).status).toBe(401);
  });

  it('signs out: the cookie is cleared and the session is gone (sign-out needs the CSRF token too)', async () => {
    const { cookie, csrf } = await signIn(maintainer.token);
    expect((await withCookie(cookie, '/-/session', 'DELETE')).status).toBe(403);
    const out = await withCookie(cookie, '/-/session', 'DELETE', { 'x-csrf-token': csrf });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/stowage_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await withCookie(cookie, '/api/v4/user')).status).toBe(401);
    expect((await withCookie(cookie, '/-/session')).json()).toEqual({ user: null, csrf_token: null });
  });

  it('refuses a derived token (a Conan login), whose session would outlive its parent', async () => {
    const parent = await s.api.createToken(maintainer.id, ['api']);
    const { id: parentId } = (await s.api.inject({ url: '/api/v4/personal_access_tokens/self', token: parent })).json<{ id: number }>();
    const derived = await s.app
      .get(TokensService)
      .create({ kind: 'personal', name: 'conan', scopes: ['api'], userId: maintainer.id, parentId });
    expect((await s.api.inject({ url: '/api/v4/user', token: derived.secret })).status).toBe(200);
    expect((await signIn(derived.secret)).res.status).toBe(401);
  });

  it("a token's logins of another kind (Conan's) do not count against its sessions, nor sessions against them", async () => {
    const token = await s.api.createToken(maintainer.id, ['api']);
    const { id: parentId } = (await s.api.inject({ url: '/api/v4/personal_access_tokens/self', token })).json<{ id: number }>();
    const { cookie } = await signIn(token);
    // As Conan's users/authenticate makes them: derived personal tokens, the newest 2 kept.
    const conanLogin = () =>
      s.app
        .get(TokensService)
        .create({ kind: 'personal', name: 'conan', scopes: ['api'], userId: maintainer.id, parentId, keepDerived: 2 });
    const conan = await conanLogin();
    for (let i = 0; i < 3; i++) await conanLogin();
    expect((await withCookie(cookie, '/api/v4/user')).status).toBe(200);
    expect((await s.api.inject({ url: '/api/v4/user', token: conan.secret })).status).toBe(401); // pruned: the oldest of its kind
    const survivor = await conanLogin();
    for (let i = 0; i < 21; i++) await signIn(token);
    expect((await s.api.inject({ url: '/api/v4/user', token: survivor.secret })).status).toBe(200);
    expect((await withCookie(cookie, '/api/v4/user')).status).toBe(401); // the oldest of 20 sessions
  });

  it('package-manager routes never act on the cookie: a page cannot make them act as its viewer', async () => {
    const { cookie, csrf } = await signIn(maintainer.token);
    await upload('3.0.0');
    const file = `/api/v4/projects/${project.id}/packages/generic/tool/3.0.0/tool.bin`;
    expect((await withCookie(cookie, file)).status).toBe(401);
    expect(
      (await withCookie(cookie, `/api/v4/projects/${project.id}/packages/generic/tool/4.0.0/tool.bin`, 'PUT', { 'x-csrf-token': csrf }))
        .status,
    ).toBe(401);
    // The Packages API, which the UI reads, does.
    expect((await withCookie(cookie, `/api/v4/projects/${project.id}/packages`)).status).toBe(200);
  });

  it('answers the session and its CSRF token with Cache-Control: no-store', async () => {
    const { res, cookie } = await signIn(maintainer.token);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await withCookie(cookie, '/-/session')).headers['cache-control']).toBe('no-store');
  });

  it('a script credential wins over the cookie', async () => {
    const { cookie } = await signIn(maintainer.token);
    const res = await s.api.inject({ url: '/api/v4/user', token: s.rootToken, headers: { cookie } });
    expect(res.json<{ username: string }>().username).toBe('root');
  });
});
