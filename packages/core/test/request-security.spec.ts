import { startTestServer, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// Request-path hardening: scopes on group-level reads, and client input that used to reach
// Postgres and come back as a 500 (NUL bytes, ids past int4, years Postgres cannot store).
// Postgres only: the checks all run before any query.

describe('request-path security', () => {
  let s: TestServer;
  let group: { id: number; full_path: string };
  let project: TestProject;
  let readUser: TestUser; // developer in the group, token scoped read_user only

  beforeAll(async () => {
    s = await startTestServer({ mode: 'postgres', listen: false, formats: [genericFormat] });
    group = await s.api.createGroup('sec');
    project = await s.api.createProject('app', { namespaceId: group.id });
    readUser = await s.api.createUser('reader', { scopes: ['read_user'] });
    await s.api.addMember({ group: group.id }, readUser.id, AccessLevel.DEVELOPER);
    const up = await s.api.inject({ method: 'PUT', url: genericPath(project.id, 'secret/1.0/f.txt'), token: s.rootToken, payload: 'x' });
    expect(up.status).toBe(201);
  });
  afterAll(() => s?.close());

  it("a token without a package scope cannot list a group's packages (as it cannot a project's)", async () => {
    const projectList = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages`, token: readUser.token });
    expect(projectList.status).toBe(403);
    const groupList = await s.api.inject({ url: `/api/v4/groups/${group.id}/packages`, token: readUser.token });
    expect(groupList.status).toBe(403);
    expect(groupList.json()).toMatchObject({ error: 'insufficient_scope' });
    expect(groupList.body).not.toContain('secret');
  });

  it('a group the caller may not see stays 404 whatever its scopes', async () => {
    const outsider = await s.api.createUser('outsider', { scopes: ['read_user'] });
    const res = await s.api.inject({ url: `/api/v4/groups/${group.id}/packages`, token: outsider.token });
    expect(res.status).toBe(404);
  });

  it.each([
    ['a project path', '/api/v4/projects/sec%2Fapp%00x/packages', 'Project'],
    ['a group path', '/api/v4/groups/sec%00/packages', 'Group'],
  ])('a NUL byte in %s is not found, not a 500', async (_what, url, subject) => {
    const res = await s.api.inject({ url, token: s.rootToken });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ message: `404 ${subject} Not Found` });
  });

  it.each([
    ['a query filter', () => `/api/v4/projects/${project.id}/packages?package_name=a%00b`],
    ['a version filter', () => `/api/v4/projects/${project.id}/packages?package_version=1%00`],
  ])('a NUL byte in %s is a 400, not a 500', async (_what, url) => {
    const res = await s.api.inject({ url: url(), token: s.rootToken });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ message: '400 Bad request - Null byte in request' });
  });

  it('a NUL byte in a JSON body is a 400, not a 500', async () => {
    const group = await s.api.inject({
      method: 'POST',
      url: '/api/v4/groups',
      token: s.rootToken,
      payload: { name: 'n', path: 'n', description: 'a\u0000b' },
    });
    expect(group.status).toBe(400);
    const token = await s.api.inject({
      method: 'POST',
      url: `/api/v4/users/${readUser.id}/personal_access_tokens`,
      token: s.rootToken,
      payload: { name: 't\u0000', scopes: ['api'] },
    });
    expect(token.status).toBe(400);
    const settings = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/package_settings`,
      token: s.rootToken,
      payload: { generic_duplicate_exception_regex: 'x\u0000' },
    });
    expect(settings.status).toBe(400);
  });

  it('NUL bytes inside an uploaded file are just bytes', async () => {
    const res = await s.api.inject({
      method: 'PUT',
      url: genericPath(project.id, 'bin/1.0/b.bin'),
      token: s.rootToken,
      payload: Buffer.from([0, 1, 0]),
    });
    expect(res.status).toBe(201);
  });

  it.each([
    ['GET', '/api/v4/users/99999999999999999999'],
    ['POST', '/api/v4/users/99999999999999999999/personal_access_tokens'],
    ['DELETE', '/api/v4/personal_access_tokens/99999999999999999999'],
    ['DELETE', '/api/v4/groups/sec/deploy_tokens/99999999999999999999'],
  ] as const)('%s %s (an id past int4) is a 404, not a 500', async (method, url) => {
    const res = await s.api.inject({
      method,
      url,
      token: s.rootToken,
      payload: method === 'POST' ? { name: 'x', scopes: ['api'] } : undefined,
    });
    expect(res.status).toBe(404);
  });

  it.each(['0000-01-01', '+275760-09-13', '10000-01-01'])('expires_at %s is refused as invalid', async (expires) => {
    const member = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${project.id}/members`,
      token: s.rootToken,
      payload: { user_id: readUser.id, access_level: AccessLevel.REPORTER, expires_at: expires },
    });
    expect(member.status).toBe(400);
    expect(member.json()).toEqual({ error: 'expires_at is invalid' });
    const token = await s.api.inject({
      method: 'POST',
      url: `/api/v4/users/${readUser.id}/personal_access_tokens`,
      token: s.rootToken,
      payload: { name: 'x', scopes: ['api'], expires_at: expires },
    });
    expect(token.status).toBe(400);
  });

  it('a catastrophic duplicate exception regex does not stall uploads', async () => {
    const p = await s.api.createProject('redos', { namespaceId: group.id });
    await s.api.setPackageSettings({ project: p.id }, { generic_duplicates_allowed: false, generic_duplicate_exception_regex: '(a+)+b' });
    const name = 'a'.repeat(40); // unbounded: 2^40 steps of backtracking
    const started = Date.now();
    expect(
      (await s.api.inject({ method: 'PUT', url: genericPath(p.id, `${name}/1.0/f.txt`), token: s.rootToken, payload: 'x' })).status,
    ).toBe(201);
    // No exception applies, so the duplicate is refused.
    expect(
      (await s.api.inject({ method: 'PUT', url: genericPath(p.id, `${name}/1.0/f.txt`), token: s.rootToken, payload: 'y' })).status,
    ).toBe(400);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an exception regex RE2 would refuse (backreference, lookaround)', async () => {
    for (const regex of ['(a)\\1', 'a(?=b)']) {
      const res = await s.api.inject({
        method: 'PUT',
        url: `/api/v4/projects/${project.id}/package_settings`,
        token: s.rootToken,
        payload: { generic_duplicate_exception_regex: regex },
      });
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^generic_duplicate_exception_regex is not valid RE2 syntax: /);
    }
  });
});

describe('pagination links', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ mode: 'postgres', listen: false, formats: [genericFormat] });
  });
  afterAll(() => s?.close());

  it('never repeat a token sent as a query parameter', async () => {
    const p = await s.api.createProject('links');
    const res = await s.api.inject({
      url: `/api/v4/projects/${p.id}/packages?per_page=5&private_token=${encodeURIComponent(s.rootToken)}`,
    });
    expect(res.status).toBe(200);
    expect(String(res.headers.link)).toContain('per_page=5');
    expect(String(res.headers.link)).not.toContain('private_token');
    expect(JSON.stringify(res.headers)).not.toContain(s.rootToken);
  });
});
