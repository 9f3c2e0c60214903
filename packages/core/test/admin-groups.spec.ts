import { type InjectResult, startTestServer, testModes, type TestServer, type TestUser, waitFor } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// GET /groups, subgroups, descendant_groups and a group's projects; PUT and DELETE /groups/:id
// with GitLab's visibility rules and roles (issue 19); and a GitLab-style script end to end.

describe.each(testModes())('admin API: groups (%s)', (mode) => {
  let s: TestServer;
  let owner: TestUser;
  let maintainer: TestUser;
  let developer: TestUser;
  let outsider: TestUser;
  let top: { id: number; full_path: string };
  let sub: { id: number; full_path: string };
  let hidden: { id: number; full_path: string };

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });
  const paths = (res: InjectResult) => (res.json() as { full_path: string }[]).map((g) => g.full_path);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, formats: [genericFormat] });
    [owner, maintainer, developer, outsider] = await Promise.all(
      ['owner', 'maintainer', 'developer', 'outsider'].map((u) => s.api.createUser(u)),
    );
    top = await s.api.createGroup('top', { visibility: 'public' });
    sub = await s.api.createGroup('sub', { visibility: 'internal', parentId: top.id });
    hidden = await s.api.createGroup('hidden', { visibility: 'private' });
    await s.api.addMember({ group: top.id }, owner.id, AccessLevel.OWNER);
    await s.api.addMember({ group: top.id }, maintainer.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ group: sub.id }, developer.id, AccessLevel.DEVELOPER);
    await s.api.createProject('pub', { visibility: 'public', namespaceId: top.id });
    await s.api.createProject('inner', { visibility: 'internal', namespaceId: sub.id });
  });
  afterAll(() => s?.close());

  it('GET /groups: public to anonymous callers, own groups to members, all to admins; filters and pages', async () => {
    expect(paths(await call('GET', '/api/v4/groups'))).toEqual(['top']);
    expect(paths(await call('GET', '/api/v4/groups', outsider.token))).toEqual([]);
    expect(paths(await call('GET', '/api/v4/groups?all_available=true', outsider.token))).toEqual(['top/sub', 'top']);
    expect(paths(await call('GET', '/api/v4/groups', developer.token))).toEqual(['top/sub']);
    expect(paths(await call('GET', '/api/v4/groups', s.rootToken))).toEqual(['hidden', 'top/sub', 'top']);
    expect(paths(await call('GET', '/api/v4/groups?owned=true', owner.token))).toEqual(['top/sub', 'top']);
    expect(paths(await call('GET', '/api/v4/groups?min_access_level=40', maintainer.token))).toEqual(['top/sub', 'top']);
    expect(paths(await call('GET', '/api/v4/groups?min_access_level=40', developer.token))).toEqual([]);
    expect(paths(await call('GET', '/api/v4/groups?top_level_only=true&order_by=id&sort=desc', s.rootToken))).toEqual(['hidden', 'top']);
    expect(paths(await call('GET', `/api/v4/groups?skip_groups[]=${hidden.id}&search=o`, s.rootToken))).toEqual(['top']);
    const paged = await call('GET', '/api/v4/groups?per_page=2&page=1', s.rootToken);
    expect(paged.headers).toMatchObject({ 'x-total': '3', 'x-total-pages': '2', 'x-next-page': '2' });
    for (const [q, error] of [
      ['order_by=size', 'order_by does not have a valid value'],
      ['min_access_level=7', 'min_access_level does not have a valid value'],
      ['skip_groups=a', 'skip_groups is invalid'],
    ]) {
      const res = await call('GET', `/api/v4/groups?${q}`, owner.token);
      expect([res.status, res.json()]).toEqual([400, { error }]);
    }
  });

  it('subgroups, descendant_groups and a group’s projects, as each caller may see them', async () => {
    expect(paths(await call('GET', `/api/v4/groups/${top.id}/subgroups`))).toEqual([]);
    expect(paths(await call('GET', `/api/v4/groups/${top.id}/subgroups`, outsider.token))).toEqual(['top/sub']);
    expect(paths(await call('GET', `/api/v4/groups/${top.id}/descendant_groups`, owner.token))).toEqual(['top/sub']);
    expect((await call('GET', `/api/v4/groups/${hidden.id}/subgroups`, outsider.token)).json()).toEqual({ message: '404 Group Not Found' });
    const projects = (res: InjectResult) => (res.json() as { path_with_namespace: string }[]).map((p) => p.path_with_namespace);
    expect(projects(await call('GET', `/api/v4/groups/${top.id}/projects`))).toEqual(['top/pub']);
    expect(projects(await call('GET', `/api/v4/groups/${top.id}/projects?include_subgroups=true`))).toEqual(['top/pub']);
    expect(projects(await call('GET', `/api/v4/groups/${top.id}/projects?include_subgroups=true`, outsider.token))).toEqual([
      'top/sub/inner',
      'top/pub',
    ]);
    expect((await call('GET', `/api/v4/groups/${hidden.id}/projects`)).status).toBe(404);
  });

  it('PUT /groups/:id is the Owner’s, and keeps GitLab’s visibility rules', async () => {
    const url = `/api/v4/groups/${sub.id}`;
    expect((await call('PUT', url, null, { description: 'x' })).status).toBe(401);
    expect((await call('PUT', `/api/v4/groups/${hidden.id}`, outsider.token, { description: 'x' })).status).toBe(404);
    expect((await call('PUT', url, developer.token, { description: 'x' })).status).toBe(403);
    expect((await call('PUT', url, maintainer.token, { description: 'x' })).json()).toEqual({ message: '403 Forbidden' });
    const ok = await call('PUT', url, owner.token, { name: 'Sub Group', description: 'the sub group' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({
      id: sub.id,
      name: 'Sub Group',
      description: 'the sub group',
      full_path: 'top/sub',
      visibility: 'internal',
    });

    const tooOpen = await call('PUT', url, owner.token, { visibility: 'public' });
    expect(tooOpen.status).toBe(200); // the parent is public
    const parentDown = await call('PUT', `/api/v4/groups/${top.id}`, owner.token, { visibility: 'private' });
    expect(parentDown.status).toBe(400);
    expect(parentDown.json()).toEqual({
      message: { visibility_level: ['private is not allowed since this group contains projects with higher visibility.'] },
    });
    await call('PUT', `/api/v4/projects/${encodeURIComponent('top/pub')}`, owner.token, { visibility: 'internal' });
    const subgroupsBlock = await call('PUT', `/api/v4/groups/${top.id}`, owner.token, { visibility: 'internal' });
    expect(subgroupsBlock.json()).toEqual({
      message: { visibility_level: ['internal is not allowed since there are sub-groups with higher visibility.'] },
    });
    expect((await call('PUT', url, owner.token, { visibility: 'internal' })).status).toBe(200);
    expect((await call('PUT', `/api/v4/groups/${top.id}`, owner.token, { visibility: 'internal' })).status).toBe(200);
    const aboveParent = await call('PUT', url, owner.token, { visibility: 'public' });
    expect(aboveParent.json()).toEqual({
      message: { visibility_level: ['public is not allowed since the parent group has a internal visibility.'] },
    });
    // A project may not be more visible than its group, on update too.
    const project = await call('PUT', `/api/v4/projects/${encodeURIComponent('top/pub')}`, owner.token, { visibility: 'public' });
    expect(project.json()).toEqual({ message: { visibility_level: ['public is not allowed in a internal group.'] } });

    expect((await call('PUT', url, owner.token, { visibility: 'open' })).json()).toEqual({
      error: 'visibility does not have a valid value',
    });
    expect((await call('PUT', url, owner.token, { path: '-bad' })).status).toBe(400);
  });

  it('PUT path moves everything below; refused while packages use it', async () => {
    const g = await s.api.createGroup('movable', { visibility: 'public' });
    const child = await s.api.createGroup('child', { visibility: 'public', parentId: g.id });
    const p = await s.api.createProject('proj', { visibility: 'public', namespaceId: child.id });
    const moved = await call('PUT', `/api/v4/groups/${g.id}`, s.rootToken, { path: 'moved' });
    expect(moved.json()).toMatchObject({ path: 'moved', full_path: 'moved' });
    expect((await call('GET', `/api/v4/projects/${encodeURIComponent('moved/child/proj')}`)).json()).toMatchObject({ id: p.id });
    expect((await call('GET', `/api/v4/groups/${encodeURIComponent('moved/child')}`)).json()).toMatchObject({ id: child.id });
    expect((await call('PUT', `/api/v4/groups/${g.id}`, s.rootToken, { path: 'top' })).json()).toEqual({
      message: { path: ['has already been taken'] },
    });
    const put = await s.api.inject({ method: 'PUT', url: genericPath(p.id, 'x/1.0.0/x.txt'), token: s.rootToken, payload: 'x' });
    expect(put.status).toBe(201);
    expect((await call('PUT', `/api/v4/groups/${g.id}`, s.rootToken, { path: 'again' })).json()).toEqual({
      message: { path: ['cannot be changed while projects under this group hold packages'] },
    });
  });

  it('DELETE /groups/:id: Owners only; the group, its subgroups and projects vanish at once and are removed in the background', async () => {
    const g = await s.api.createGroup('doomed', { visibility: 'public' });
    const child = await s.api.createGroup('kid', { visibility: 'public', parentId: g.id });
    const p = await s.api.createProject('pp', { visibility: 'public', namespaceId: child.id });
    await s.api.inject({ method: 'PUT', url: genericPath(p.id, 'y/1.0.0/y.txt'), token: s.rootToken, payload: 'y' });
    await s.api.addMember({ group: g.id }, maintainer.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ group: g.id }, owner.id, AccessLevel.OWNER);
    expect((await call('DELETE', `/api/v4/groups/${g.id}`)).status).toBe(401);
    expect((await call('DELETE', `/api/v4/groups/${g.id}`, outsider.token)).status).toBe(403);
    expect((await call('DELETE', `/api/v4/groups/${g.id}`, maintainer.token)).status).toBe(403);
    expect((await call('DELETE', `/api/v4/groups/${hidden.id}`, outsider.token)).status).toBe(404);
    const res = await call('DELETE', `/api/v4/groups/${g.id}`, owner.token);
    expect([res.status, res.json()]).toEqual([202, { message: '202 Accepted' }]);
    for (const url of [`/api/v4/groups/${g.id}`, `/api/v4/groups/${child.id}`, `/api/v4/projects/${p.id}`]) {
      expect((await call('GET', url, s.rootToken)).status).toBe(404);
    }
    expect((await call('GET', genericPath(p.id, 'y/1.0.0/y.txt'), s.rootToken)).status).toBe(404);
    const ds = s.app.get(DataSource);
    await s.drainJobs();
    await waitFor(
      'the namespaces to go',
      async () => (await ds.query('SELECT 1 FROM namespaces WHERE id = ANY($1)', [[g.id, child.id]])).length === 0,
    );
    expect(await ds.query('SELECT 1 FROM projects WHERE id = $1', [p.id])).toEqual([]);
    expect(await ds.query("SELECT 1 FROM members WHERE source_type = 'namespace' AND source_id = $1", [g.id])).toEqual([]);
  });

  it('a GitLab-style script creates, lists, updates and deletes groups, projects and members', async () => {
    const root = s.rootToken;
    const group = (await call('POST', '/api/v4/groups', root, { name: 'Script', path: 'script', visibility: 'private' })).json();
    const project = (await call('POST', '/api/v4/projects', root, { name: 'tool', namespace_id: group.id })).json();
    expect((await call('POST', `/api/v4/projects/${project.id}/members`, root, { user_id: developer.id, access_level: 30 })).status).toBe(
      201,
    );
    expect((await call('GET', `/api/v4/groups?search=script`, root)).json()).toMatchObject([{ id: group.id }]);
    expect((await call('GET', `/api/v4/groups/${group.id}/projects`, root)).json()).toMatchObject([{ id: project.id }]);
    expect((await call('GET', `/api/v4/projects/${project.id}/members/all`, root)).json()).toMatchObject([
      { username: 'root', access_level: 50 },
      { username: 'developer', access_level: 30 },
    ]);
    expect((await call('PUT', `/api/v4/projects/${project.id}/members/${developer.id}`, root, { access_level: 40 })).json()).toMatchObject({
      access_level: 40,
    });
    expect((await call('PUT', `/api/v4/groups/${group.id}`, root, { description: 'scripted' })).json()).toMatchObject({
      description: 'scripted',
    });
    expect((await call('DELETE', `/api/v4/projects/${project.id}/members/${developer.id}`, root)).status).toBe(204);
    expect((await call('DELETE', `/api/v4/projects/${project.id}`, root)).status).toBe(202);
    expect((await call('DELETE', `/api/v4/groups/${group.id}`, root)).status).toBe(202);
    expect((await call('GET', `/api/v4/groups?search=script`, root)).json()).toEqual([]);
  });
});
