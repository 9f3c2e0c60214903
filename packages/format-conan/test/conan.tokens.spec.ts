import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';
import { send } from './conan.replay';

const RREV = 'a'.repeat(32);
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

// What `users/authenticate` hands out: like GitLab's Conan tokens, package registry only, no
// more than the token it came from, short-lived, and not without bound per credential.
describe.each(testModes())('conan logins (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let project: TestProject;
  let v2: string;

  const req = (method: string, path: string, authorization: string, body = '') =>
    send(s.url, method, path, { authorization }, Buffer.from(body));
  const login = async (authorization: string) => {
    const res = await req('GET', `${v2}/users/authenticate`, authorization);
    expect(res.status).toBe(200);
    return `Bearer ${res.body.toString()}`;
  };
  const file = (name: string) => `${v2}/conans/${name}/1.0/_/_/revisions/${RREV}/files/conanfile.py`;

  beforeAll(async () => {
    s = await startTestServer({ formats: [conanFormat], mode, listen: true, config: { formats: { conan: { max_live_tokens: 3 } } } });
    project = await s.api.createProject('conan-logins');
    dev = await s.api.createUser('dev');
    await s.api.addMember({ project: project.id }, dev.id, 30);
    v2 = `/api/v4/projects/${project.id}/packages/conan/v2`;
  });
  afterAll(() => s?.close());

  it("an api token's login reaches the package registry and nothing else", async () => {
    const bearer = await login(basic('dev', dev.token));
    expect((await req('PUT', file('full'), bearer, 'from conan import ConanFile\n')).status).toBe(200);
    expect((await req('GET', file('full'), bearer)).status).toBe(200);
    // The REST API (what `api` gives the token it came from) answers 403 to the login.
    expect((await req('GET', '/api/v4/user', basic('dev', dev.token))).status).toBe(200);
    for (const path of ['/api/v4/user', `/api/v4/projects/${project.id}`]) {
      const res = await req('GET', path, bearer);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    // Nor can it mint a token that could.
    const mint = await send(
      s.url,
      'POST',
      `/api/v4/users/${dev.id}/personal_access_tokens`,
      { authorization: bearer, 'content-type': 'application/json' },
      Buffer.from('{"name":"x","scopes":["api"]}'),
    );
    expect(mint.status).toBe(403);
  });

  it("a read_api token's login reads but may not upload", async () => {
    const readOnly = await s.api.createToken(dev.id, ['read_api']);
    const bearer = await login(basic('dev', readOnly));
    expect((await req('GET', file('full'), bearer)).status).toBe(200);
    const put = await req('PUT', file('other'), bearer, 'x');
    expect(put.status).toBe(403);
    expect((await req('GET', file('other'), basic('dev', dev.token))).status).toBe(404);
  });

  it('a token that may not read packages gets no login', async () => {
    const userOnly = await s.api.createToken(dev.id, ['read_user']);
    expect((await req('GET', `${v2}/users/authenticate`, basic('dev', userOnly))).status).toBe(403);
  });

  it('one credential keeps at most max_live_tokens logins: the oldest stop working', async () => {
    const secret = await s.api.createToken(dev.id, ['api']);
    const bearers: string[] = [];
    for (let i = 0; i < 5; i++) bearers.push(await login(basic('dev', secret)));
    const statuses = [];
    for (const bearer of bearers) statuses.push((await req('GET', `${v2}/users/check_credentials`, bearer)).status);
    expect(statuses).toEqual([401, 401, 200, 200, 200]);
    // Another credential's logins are its own.
    expect((await req('GET', `${v2}/users/check_credentials`, await login(basic('dev', dev.token)))).status).toBe(200);
  });
});
