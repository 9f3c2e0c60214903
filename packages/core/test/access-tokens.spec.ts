import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel } from '../src/auth/access-level';
import { genericFormat } from './generic-fixture';

// GitLab's project and group access tokens API (lib/api/resource_access_tokens.rb): each token
// has its own bot user, a member of the project or group at the token's access level; who may
// list, create, rotate and revoke them; and that they work on package routes at once and stop
// at once (curl against the generic format).

const run = promisify(execFile);
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe.each(testModes())('project and group access tokens (%s)', (mode) => {
  let s: TestServer;
  let group: { id: number; full_path: string };
  let project: { id: number };
  let owner: TestUser;
  let maintainer: TestUser;
  let developer: TestUser;
  let outsider: TestUser;
  let admin: TestUser;

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });
  const projectTokens = () => `/api/v4/projects/${project.id}/access_tokens`;
  const groupTokens = () => `/api/v4/groups/${group.id}/access_tokens`;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true });
    group = await s.api.createGroup('crew', { visibility: 'private' });
    project = await s.api.createProject('ship', { namespaceId: group.id });
    [owner, maintainer, developer, outsider, admin] = await Promise.all([
      s.api.createUser('owner'),
      s.api.createUser('maintainer'),
      s.api.createUser('developer'),
      s.api.createUser('outsider'),
      s.api.createUser('admin2', { admin: true }),
    ]);
    await s.api.addMember({ group: group.id }, owner.id, AccessLevel.OWNER);
    await s.api.addMember({ group: group.id }, maintainer.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ group: group.id }, developer.id, AccessLevel.DEVELOPER);
  });
  afterAll(() => s?.close());

  it('creates a project access token in GitLab’s shape, with a bot user who is a member at its level', async () => {
    const res = await call('POST', projectTokens(), maintainer.token, {
      name: 'ci bot',
      scopes: ['api', 'read_repository'],
      access_level: AccessLevel.DEVELOPER,
      expires_at: day(30),
      description: 'publishes releases',
    });
    expect(res.status).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'access_level',
        'active',
        'created_at',
        'description',
        'expires_at',
        'id',
        'last_used_at',
        'name',
        'revoked',
        'scopes',
        'token',
        'user_id',
      ].sort(),
    );
    expect(body).toMatchObject({
      name: 'ci bot',
      scopes: ['api', 'read_repository'],
      access_level: 30,
      expires_at: day(30),
      description: 'publishes releases',
      revoked: false,
      active: true,
      last_used_at: null,
    });
    expect(body.user_id).not.toBe(maintainer.id);
    const bot = (await call('GET', `/api/v4/users/${body.user_id}`, s.rootToken)).json();
    expect(bot.username).toMatch(new RegExp(`^project_${project.id}_bot_[0-9a-f]{32}$`));
    expect(bot).toMatchObject({ name: 'ci bot', bot: true, state: 'active' });
    // The token acts as its bot: GET /user answers with it; the project is visible through its membership.
    expect((await call('GET', '/api/v4/user', body.token)).json().id).toBe(body.user_id);
    expect((await call('GET', `/api/v4/projects/${project.id}`, body.token)).json().permissions.project_access.access_level).toBe(30);
    // Without expires_at GitLab gives the maximum lifetime, a year; without access_level, Maintainer.
    const plain = await call('POST', projectTokens(), maintainer.token, { name: 'plain', scopes: ['read_api'] });
    expect(plain.json()).toMatchObject({ access_level: 40, expires_at: day(365) });
  });

  it('lets Maintainers and up create project tokens, never above their own level; Owners only give Owner', async () => {
    const create = (token: string | null, payload: object) =>
      call('POST', projectTokens(), token, { name: 't', scopes: ['api'], ...payload });
    expect((await create(owner.token, { access_level: 50 })).status).toBe(201);
    expect((await create(admin.token, { access_level: 50 })).status).toBe(201);
    expect((await create(maintainer.token, { access_level: 40 })).status).toBe(201);
    const asOwner = await create(maintainer.token, { access_level: 50 });
    expect([asOwner.status, asOwner.json()]).toEqual([400, { message: '400 Bad request - Could not provide owner access' }]);
    const asDeveloper = await create(developer.token, { access_level: 30 });
    expect([asDeveloper.status, asDeveloper.json()]).toEqual([
      400,
      { message: '400 Bad request - User does not have permission to create project access token' },
    ]);
    expect((await create(outsider.token, {})).json()).toEqual({ message: '404 Project Not Found' });
    expect((await create(null, {})).status).toBe(401);
    // Bad input: GitLab's 400s, and nothing written.
    const before = (await call('GET', `${projectTokens()}?per_page=100`, owner.token)).headers['x-total'];
    expect((await create(owner.token, { access_level: 45 })).json()).toEqual({ error: 'access_level does not have a valid value' });
    expect((await create(owner.token, { scopes: ['sudo'] })).json()).toEqual({ error: 'scopes does not have a valid value' });
    expect((await call('POST', projectTokens(), owner.token, { scopes: ['api'] })).json()).toEqual({ error: 'name is missing' });
    expect((await create(owner.token, { expires_at: '2001-01-01' })).json()).toEqual({ error: 'expires_at must be in the future' });
    expect((await call('GET', `${projectTokens()}?per_page=100`, owner.token)).headers['x-total']).toBe(before);
  });

  it('lists and shows project tokens to Maintainers (401 to a Developer, as GitLab), with state and pagination', async () => {
    const list = await call('GET', `${projectTokens()}?per_page=2`, maintainer.token);
    expect(list.status).toBe(200);
    expect(list.headers['x-per-page']).toBe('2');
    expect(Number(list.headers['x-total'])).toBeGreaterThanOrEqual(4);
    expect(list.json()[0]).toMatchObject({ name: 'ci bot', access_level: 30 });
    expect(list.json()[0].token).toBeUndefined();
    expect((await call('GET', projectTokens(), developer.token)).status).toBe(401);
    expect((await call('GET', projectTokens(), outsider.token)).status).toBe(404);
    expect((await call('GET', projectTokens(), null)).status).toBe(401);

    const id = list.json()[0].id;
    const one = await call('GET', `${projectTokens()}/${id}`, maintainer.token);
    expect(one.json()).toMatchObject({ id, name: 'ci bot', access_level: 30 });
    const none = await call('GET', `${projectTokens()}/999999`, maintainer.token);
    expect([none.status, none.json()]).toEqual([
      404,
      { message: '404 Could not find project access token with token_id: 999999 Not Found' },
    ]);
    // A personal token of a member is no project access token.
    const self = (await call('GET', '/api/v4/personal_access_tokens/self', maintainer.token)).json().id;
    expect((await call('GET', `${projectTokens()}/${self}`, maintainer.token)).status).toBe(404);
  });

  it('rotates a token (same bot, new secret, the old one refused at once) and revokes one (refused at once, its bot blocked)', async () => {
    const made = (
      await call('POST', projectTokens(), maintainer.token, { name: 'rotor', scopes: ['api'], access_level: 30, expires_at: day(20) })
    ).json();
    const res = await call('POST', `${projectTokens()}/${made.id}/rotate`, maintainer.token, { expires_at: day(5) });
    expect(res.status).toBe(200);
    const rotated = res.json();
    expect(rotated).toMatchObject({ name: 'rotor', user_id: made.user_id, access_level: 30, expires_at: day(5), active: true });
    expect(rotated.token).not.toBe(made.token);
    expect((await call('GET', '/api/v4/user', made.token)).status).toBe(401);
    expect((await call('GET', '/api/v4/user', rotated.token)).status).toBe(200);
    expect((await call('POST', `${projectTokens()}/${made.id}/rotate`, maintainer.token)).json()).toEqual({
      message: '400 Bad request - token already revoked',
    });
    expect((await call('POST', `${projectTokens()}/${rotated.id}/rotate`, developer.token)).status).toBe(401);
    expect((await call('POST', `${projectTokens()}/999999/rotate`, admin.token)).status).toBe(404);

    const denied = await call('DELETE', `${projectTokens()}/${rotated.id}`, developer.token);
    expect([denied.status, denied.json()]).toEqual([400, { message: '400 Bad request - developer cannot delete rotor' }]);
    expect((await call('DELETE', `${projectTokens()}/999999`, maintainer.token)).status).toBe(404);
    expect((await call('DELETE', `${projectTokens()}/${rotated.id}`, maintainer.token)).status).toBe(204);
    expect((await call('GET', '/api/v4/user', rotated.token)).status).toBe(401);
    expect((await call('GET', `/api/v4/users/${made.user_id}`, s.rootToken)).json().state).toBe('blocked');
    const inactive = await call('GET', `${projectTokens()}?state=inactive&per_page=100`, maintainer.token);
    expect(inactive.json().map((t: { id: number }) => t.id)).toEqual(expect.arrayContaining([made.id, rotated.id]));
  });

  it('refuses to rotate a token above the caller’s own level', async () => {
    const high = (await call('POST', projectTokens(), owner.token, { name: 'high', scopes: ['api'], access_level: 50 })).json();
    expect((await call('POST', `${projectTokens()}/${high.id}/rotate`, maintainer.token)).json()).toEqual({
      message: '400 Bad request - Not eligible to rotate token with access level higher than the user',
    });
    expect((await call('POST', `${projectTokens()}/${high.id}/rotate`, owner.token)).status).toBe(200);
  });

  it('makes group access tokens for Owners only; their bot reaches every project below', async () => {
    const byMaintainer = await call('POST', groupTokens(), maintainer.token, { name: 'g', scopes: ['api'], access_level: 30 });
    expect(byMaintainer.json()).toEqual({ message: '400 Bad request - User does not have permission to create group access token' });
    expect((await call('GET', groupTokens(), maintainer.token)).status).toBe(401);
    const made = await call('POST', groupTokens(), owner.token, { name: 'group bot', scopes: ['read_api'], access_level: 20 });
    expect(made.status).toBe(201);
    const bot = (await call('GET', `/api/v4/users/${made.json().user_id}`, s.rootToken)).json();
    expect(bot.username).toMatch(new RegExp(`^group_${group.id}_bot_[0-9a-f]{32}$`));
    expect((await call('GET', `/api/v4/projects/${project.id}/packages`, made.json().token)).status).toBe(200);
    const list = await call('GET', groupTokens(), owner.token);
    expect(list.json().map((t: { name: string; access_level: number }) => [t.name, t.access_level])).toEqual([['group bot', 20]]);
    expect((await call('GET', `${groupTokens()}/${list.json()[0].id}`, owner.token)).status).toBe(200);
    const elsewhere = (await call('GET', `${projectTokens()}?per_page=100`, owner.token)).json();
    expect(elsewhere.map((t: { id: number }) => t.id)).not.toContain(made.json().id);
  });

  it('publishes and downloads a generic package with a project access token through curl, and stops the moment it is revoked', async () => {
    const made = (await call('POST', projectTokens(), maintainer.token, { name: 'curl', scopes: ['api'], access_level: 30 })).json();
    const dir = await mkdtemp(join(tmpdir(), 'pat-curl-'));
    try {
      const file = join(dir, 'tool.bin');
      await writeFile(file, 'built by CI\n');
      const url = `${s.url}/api/v4/projects/${project.id}/packages/generic/tool/1.0.0/tool.bin`;
      const put = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--header',
        `PRIVATE-TOKEN: ${made.token}`,
        '--upload-file',
        file,
        url,
      ]);
      expect(put.stdout).toBe('201');
      const out = join(dir, 'fetched.bin');
      // Basic with any user name, as GitLab takes a project access token.
      const get = await run('curl', ['-sS', '-o', out, '-w', '%{http_code}', '--user', `anything:${made.token}`, url]);
      expect(get.stdout).toBe('200');
      expect(await readFile(out, 'utf8')).toBe('built by CI\n');

      expect((await call('DELETE', `${projectTokens()}/${made.id}`, maintainer.token)).status).toBe(204);
      const after = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--header', `PRIVATE-TOKEN: ${made.token}`, url]);
      expect(after.stdout).toBe('401');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
