import { randomBytes } from 'node:crypto';

import { type InjectResult, startTestServer, storedBlobKeys, testModes, type TestServer, type TestUser, waitFor } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { AccessLevel, BlobCollector, PackageService } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// GET /projects with GitLab's filters and DELETE /projects/:id (issue 19): the project is gone
// at once, its packages and then its files in the background, and no download is ever cut short.

describe.each(testModes())('admin API: projects (%s)', (mode) => {
  let s: TestServer;
  let owner: TestUser;
  let maintainer: TestUser;
  let developer: TestUser;
  let reporter: TestUser;
  let outsider: TestUser;
  let team: { id: number; full_path: string };
  const ids: Record<string, number> = {};

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string | null, payload?: object): Promise<InjectResult> =>
    s.api.inject({ method, url, token: token ?? undefined, payload });
  const names = (res: InjectResult) => (res.json() as { path: string }[]).map((p) => p.path);

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, formats: [genericFormat] });
    [owner, maintainer, developer, reporter, outsider] = await Promise.all(
      ['owner', 'maintainer', 'developer', 'reporter', 'outsider'].map((u) => s.api.createUser(u)),
    );
    team = await s.api.createGroup('team', { visibility: 'public' });
    await s.api.addMember({ group: team.id }, owner.id, AccessLevel.OWNER);
    for (const [path, visibility, packages] of [
      ['alpha', 'private', true],
      ['beta', 'internal', false],
      ['gamma', 'public', true],
    ] as const) {
      const p = await s.api.root('POST', '/api/v4/projects', {
        name: path,
        path,
        namespace_id: team.id,
        visibility,
        packages_enabled: packages,
        description: `the ${path} project`,
      });
      ids[path] = p.id;
    }
    await s.api.addMember({ project: ids.alpha }, maintainer.id, AccessLevel.MAINTAINER);
    await s.api.addMember({ project: ids.alpha }, developer.id, AccessLevel.DEVELOPER);
    await s.api.addMember({ project: ids.alpha }, reporter.id, AccessLevel.REPORTER);
  });
  afterAll(() => s?.close());

  describe('GET /projects', () => {
    it('lists what each caller may see, packages enabled or not, newest first', async () => {
      expect(names(await call('GET', '/api/v4/projects'))).toEqual(['gamma']);
      expect(names(await call('GET', '/api/v4/projects', outsider.token))).toEqual(['gamma', 'beta']);
      expect(names(await call('GET', '/api/v4/projects', developer.token))).toEqual(['gamma', 'beta', 'alpha']);
      expect(names(await call('GET', '/api/v4/projects', s.rootToken))).toEqual(['gamma', 'beta', 'alpha']);
    });

    it('owned, membership and min_access_level are about the caller’s own memberships', async () => {
      expect(names(await call('GET', '/api/v4/projects?membership=true', developer.token))).toEqual(['alpha']);
      expect(names(await call('GET', '/api/v4/projects?owned=true', developer.token))).toEqual([]);
      expect(names(await call('GET', '/api/v4/projects?owned=true', owner.token))).toEqual(['gamma', 'beta', 'alpha']);
      expect(names(await call('GET', '/api/v4/projects?min_access_level=30', reporter.token))).toEqual([]);
      expect(names(await call('GET', '/api/v4/projects?min_access_level=30', maintainer.token))).toEqual(['alpha']);
      // root made the group, so is its Owner; an admin's membership filter is about that, not admin rights.
      expect(names(await call('GET', '/api/v4/projects?membership=true', s.rootToken))).toEqual(['gamma', 'beta', 'alpha']);
      expect(names(await call('GET', '/api/v4/projects?membership=true', outsider.token))).toEqual([]);
      expect(names(await call('GET', '/api/v4/projects?membership=true'))).toEqual([]);
      expect(names(await call('GET', '/api/v4/projects?starred=true', owner.token))).toEqual([]);
    });

    it('search, search_namespaces, visibility, id_after/id_before, packages_enabled, order_by and sort', async () => {
      expect(names(await call('GET', '/api/v4/projects?search=ALPHA%20project', owner.token))).toEqual(['alpha']);
      expect(names(await call('GET', '/api/v4/projects?search=team', owner.token))).toEqual([]);
      expect(names(await call('GET', '/api/v4/projects?search=team&search_namespaces=true&order_by=name&sort=asc', owner.token))).toEqual([
        'alpha',
        'beta',
        'gamma',
      ]);
      expect(names(await call('GET', '/api/v4/projects?visibility=internal', owner.token))).toEqual(['beta']);
      expect(names(await call('GET', `/api/v4/projects?id_after=${ids.alpha}&id_before=${ids.gamma}`, owner.token))).toEqual(['beta']);
      expect(names(await call('GET', '/api/v4/projects?packages_enabled=true&order_by=id&sort=asc', owner.token))).toEqual([
        'alpha',
        'gamma',
      ]);
      expect(names(await call('GET', '/api/v4/projects?order_by=path&sort=desc', owner.token))).toEqual(['gamma', 'beta', 'alpha']);
      expect(names(await call('GET', '/api/v4/projects?last_activity_after=2000-01-01&order_by=name&sort=asc', owner.token))).toEqual([
        'alpha',
        'beta',
        'gamma',
      ]);
    });

    it('pages with GitLab’s headers; simple=true gives the short shape', async () => {
      const res = await call('GET', '/api/v4/projects?per_page=1&page=2&order_by=name&sort=asc', owner.token);
      expect(res.status).toBe(200);
      expect(names(res)).toEqual(['beta']);
      expect(res.headers).toMatchObject({
        'x-total': '3',
        'x-total-pages': '3',
        'x-page': '2',
        'x-per-page': '1',
        'x-next-page': '3',
        'x-prev-page': '1',
      });
      expect(String(res.headers.link)).toContain('rel="next"');
      const simple = (await call('GET', '/api/v4/projects?simple=true&search=gamma')).json()[0];
      expect(simple).toMatchObject({
        id: ids.gamma,
        path_with_namespace: 'team/gamma',
        name_with_namespace: 'team / gamma',
        star_count: 0,
      });
      expect(simple.visibility).toBeUndefined();
      const full = (await call('GET', '/api/v4/projects?search=gamma')).json()[0];
      expect(full).toMatchObject({ visibility: 'public', packages_enabled: true, namespace: { id: team.id, kind: 'group' } });
    });

    it('answers bad parameters with 400 in GitLab’s shape', async () => {
      for (const [q, error] of [
        ['order_by=stars', 'order_by does not have a valid value'],
        ['sort=up', 'sort does not have a valid value'],
        ['visibility=secret', 'visibility does not have a valid value'],
        ['min_access_level=33', 'min_access_level does not have a valid value'],
        ['owned=maybe', 'owned is invalid'],
        ['id_after=-1', 'id_after is invalid'],
        ['last_activity_after=yesterday', 'last_activity_after is invalid'],
        ['page=0', 'page is invalid'],
      ]) {
        const res = await call('GET', `/api/v4/projects?${q}`, owner.token);
        expect([q, res.status, res.json()]).toEqual([q, 400, { error }]);
      }
    });
  });

  describe('DELETE /projects/:id', () => {
    it('is the Owner’s or an admin’s: 401 anonymous, 404 hidden, 403 below Owner, then 202 and the project is gone at once', async () => {
      const victim = await s.api.root('POST', '/api/v4/projects', { name: 'victim', namespace_id: team.id, visibility: 'private' });
      for (const u of [maintainer, developer, reporter])
        await s.api.addMember({ project: victim.id }, u.id, 40 - 10 * [maintainer, developer, reporter].indexOf(u));
      const url = `/api/v4/projects/${victim.id}`;
      expect((await call('DELETE', url)).status).toBe(401);
      expect((await call('DELETE', url, outsider.token)).json()).toEqual({ message: '404 Project Not Found' });
      for (const u of [maintainer, developer, reporter]) {
        const res = await call('DELETE', url, u.token);
        expect([u.username, res.status, res.json()]).toEqual([u.username, 403, { message: '403 Forbidden' }]);
      }
      const res = await call('DELETE', url, owner.token);
      expect(res.status).toBe(202);
      expect(res.json()).toEqual({ message: '202 Accepted' });
      expect((await call('GET', url, owner.token)).status).toBe(404);
      expect((await call('GET', '/api/v4/projects/team%2Fvictim', s.rootToken)).status).toBe(404);
      expect(names(await call('GET', '/api/v4/projects', s.rootToken))).not.toContain('victim');
      expect((await call('DELETE', url, owner.token)).status).toBe(404);

      const byAdmin = await s.api.root('POST', '/api/v4/projects', { name: 'victim2', namespace_id: team.id });
      expect((await call('DELETE', `/api/v4/projects/${byAdmin.id}`, s.rootToken)).status).toBe(202);
    });

    it('removes its packages and then its files; a download during the removal is whole or a 404, never half', async () => {
      const project = await s.api.root('POST', '/api/v4/projects', { name: 'files', namespace_id: team.id, visibility: 'public' });
      const bytes = randomBytes(3 * 1024 * 1024);
      const put = await s.api.inject({
        method: 'PUT',
        url: genericPath(project.id, 'big/1.0.0/big.bin'),
        token: owner.token,
        payload: bytes,
      });
      expect(put.status).toBe(201);
      const kept = await storedBlobKeys(s);
      expect(kept.length).toBeGreaterThan(0);
      const download = () => s.api.inject({ url: genericPath(project.id, 'big/1.0.0/big.bin'), token: owner.token });
      expect((await download()).rawPayload.equals(bytes)).toBe(true);

      const downloads = Array.from({ length: 8 }, () => download());
      expect((await call('DELETE', `/api/v4/projects/${project.id}`, owner.token)).status).toBe(202);
      downloads.push(download(), download());
      for (const res of await Promise.all(downloads)) {
        if (res.status === 200) expect(res.rawPayload.equals(bytes)).toBe(true);
        else expect(res.status).toBe(404);
      }
      expect((await download()).status).toBe(404);

      const ds = s.app.get(DataSource);
      await s.drainJobs();
      await waitFor(
        'the project row to go',
        async () => (await ds.query('SELECT 1 FROM projects WHERE id = $1', [project.id])).length === 0,
      );
      expect(await ds.query('SELECT 1 FROM packages WHERE project_id = $1', [project.id])).toEqual([]);
      // Its blob waits out the grace period (a download that found it still streams it); then it goes.
      const [orphan] = await ds.query('SELECT storage_key FROM blobs WHERE orphaned_at IS NOT NULL');
      expect(kept).toContain(orphan.storage_key);
      await s.app.get(BlobCollector).collect(0);
      expect(await storedBlobKeys(s)).not.toContain(orphan.storage_key);
    });

    it('a package write that passed its checks before the project went answers 404 Project Not Found, not a 500', async () => {
      const project = await s.api.root('POST', '/api/v4/projects', { name: 'raced', namespace_id: team.id });
      expect((await call('DELETE', `/api/v4/projects/${project.id}`, owner.token)).status).toBe(202);
      await s.drainJobs();
      const ds = s.app.get(DataSource);
      await waitFor(
        'the project row to go',
        async () => (await ds.query('SELECT 1 FROM projects WHERE id = $1', [project.id])).length === 0,
      );
      // Where an upload that began before the DELETE reaches its write.
      const late = s.app
        .get(PackageService)
        .write((w) => w.upsertPackage({ projectId: project.id, packageType: 'generic', name: 'late', version: '1.0.0' }));
      await expect(late).rejects.toMatchObject({ status: 404, body: { message: '404 Project Not Found' } });
      expect(await ds.query('SELECT 1 FROM packages WHERE project_id = $1', [project.id])).toEqual([]);
    });

    it('a removal a stopped server left unfinished is taken up again on the next start', async () => {
      const project = await s.api.root('POST', '/api/v4/projects', { name: 'halfway', namespace_id: team.id });
      const put = await s.api.inject({ method: 'PUT', url: genericPath(project.id, 'h/1.0.0/h.txt'), token: owner.token, payload: 'h' });
      expect(put.status).toBe(201);
      // As a DELETE leaves it when the process stops before its job ran.
      await s.app.get(DataSource).query('UPDATE projects SET pending_delete = true WHERE id = $1', [project.id]);
      await s.restart();
      await s.drainJobs();
      const ds = s.app.get(DataSource);
      await waitFor(
        'the project row to go',
        async () => (await ds.query('SELECT 1 FROM projects WHERE id = $1', [project.id])).length === 0,
      );
      expect(await ds.query('SELECT 1 FROM packages WHERE project_id = $1', [project.id])).toEqual([]);
    });
  });
});
