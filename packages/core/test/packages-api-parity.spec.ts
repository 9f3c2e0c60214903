import { Module } from '@nestjs/common';
import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, apiPackageType, defineFormatPlugin, formatPackageType, PackageService, type PackageStatus } from '../src';
import { genericFormat, genericPath } from './generic-fixture';

// Where the Packages API answers as GitLab's beyond the basics (packages-api.spec.ts):
// `golang` for Go packages, every status as a filter, which statuses a single read shows,
// order_by=project_path on group listings, and the pipelines of a package.

/** A route-less stand-in for format-go: the package_type `go` its rows keep. */
@Module({})
class GoStandInModule {
  static register() {
    return { module: GoStandInModule };
  }
}
const goStandIn = defineFormatPlugin({ name: 'go', module: GoStandInModule });

describe('package types', () => {
  it('names Go packages golang in the API and go everywhere else; other types are themselves', () => {
    expect(apiPackageType('go')).toBe('golang');
    expect(formatPackageType('golang')).toBe('go');
    for (const t of ['generic', 'npm', 'maven']) expect([apiPackageType(t), formatPackageType(t)]).toEqual([t, t]);
  });
});

describe.each(testModes())('Packages API as GitLab answers it (%s)', (mode) => {
  let s: TestServer;
  let a: TestProject; // parity/a
  let b: TestProject; // parity/b
  let guest: TestUser;
  let outsider: TestUser;
  /** Package ids by status, in project a. */
  const byStatus = new Map<PackageStatus, number>();
  let goId: number;

  const get = (url: string, token: string = s.rootToken) => s.api.inject({ url, token });

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat, goStandIn], mode, listen: false });
    const group = await s.api.createGroup('parity');
    // b's path sorts before a's full path only by project path, not by creation.
    b = await s.api.createProject('b', { namespaceId: group.id });
    a = await s.api.createProject('a', { namespaceId: group.id });
    guest = await s.api.createUser('guest');
    outsider = await s.api.createUser('outsider');
    await s.api.addMember({ project: a.id }, guest.id, AccessLevel.GUEST);

    const packages = s.app.get(PackageService);
    for (const status of ['default', 'hidden', 'processing', 'error', 'pending_destruction', 'deprecated'] as PackageStatus[]) {
      const { pkg } = await packages.write((w) =>
        w.upsertPackage({ projectId: a.id, packageType: 'generic', name: `st-${status}`, version: '1.0.0', status }),
      );
      byStatus.set(status, pkg.id);
    }
    const { pkg } = await packages.write((w) =>
      w.upsertPackage({ projectId: b.id, packageType: 'go', name: 'example.com/mod', version: 'v1.0.0' }),
    );
    goId = pkg.id;
    const res = await s.api.inject({
      method: 'PUT',
      url: genericPath(b.id, 'bpkg/1.0.0/f.txt'),
      token: s.rootToken,
      payload: Buffer.from('b'),
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => s?.close());

  describe('package_type=golang', () => {
    it.each(['/projects/:b/packages', '/groups/parity/packages', '/packages'])(
      'filters and shows Go packages as golang on %s',
      async (path) => {
        const base = `/api/v4${path.replace(':b', String(b.id))}`;
        const res = await get(`${base}?package_type=golang`);
        expect(res.status).toBe(200);
        expect(res.json()).toEqual([
          expect.objectContaining({ id: goId, name: 'example.com/mod', version: 'v1.0.0', package_type: 'golang' }),
        ]);
        const all = await get(`${base}?per_page=100`);
        expect(all.json().find((p: { id: number }) => p.id === goId).package_type).toBe('golang');
      },
    );

    it('answers golang for a single package, and refuses go as GitLab does', async () => {
      expect((await get(`/api/v4/projects/${b.id}/packages/${goId}`)).json()).toMatchObject({ package_type: 'golang' });
      const res = await get(`/api/v4/projects/${b.id}/packages?package_type=go`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'package_type does not have a valid value' });
    });
  });

  describe('statuses', () => {
    it.each(['default', 'hidden', 'processing', 'error', 'pending_destruction', 'deprecated'])('filters by status=%s', async (status) => {
      const res = await get(`/api/v4/projects/${a.id}/packages?status=${status}`);
      expect(res.status).toBe(200);
      expect(res.json().map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([[`st-${status}`, status]]);
    });

    it.each([
      ['default', 200],
      ['error', 200],
      ['deprecated', 200],
      ['hidden', 404],
      ['processing', 404],
      ['pending_destruction', 404],
    ] as [PackageStatus, number][])(
      'reads a %s package (and its files and pipelines) with %d, as GitLab’s PackageFinder',
      async (status, code) => {
        const id = byStatus.get(status)!;
        for (const rest of ['', '/package_files', '/pipelines']) {
          const res = await get(`/api/v4/projects/${a.id}/packages/${id}${rest}`);
          expect([rest, res.status]).toEqual([rest, code]);
          if (code === 404) expect(res.json()).toEqual({ message: '404 Package Not Found' });
        }
        if (code === 200) expect((await get(`/api/v4/projects/${a.id}/packages/${id}`)).json()).toMatchObject({ status });
      },
    );

    it('still deletes a hidden package (GitLab’s finder would not find it; Stowage lets it go)', async () => {
      const packages = s.app.get(PackageService);
      const { pkg } = await packages.write((w) =>
        w.upsertPackage({ projectId: a.id, packageType: 'generic', name: 'hidden-to-delete', version: '1.0.0', status: 'hidden' }),
      );
      const url = `/api/v4/projects/${a.id}/packages/${pkg.id}`;
      expect((await s.api.inject({ method: 'DELETE', url, token: s.rootToken })).status).toBe(204);
      expect((await s.api.inject({ method: 'DELETE', url, token: s.rootToken })).status).toBe(404);
    });
  });

  describe('order_by=project_path', () => {
    it('orders a group listing by project path, then by id', async () => {
      const asc = await get('/api/v4/groups/parity/packages?order_by=project_path&per_page=100');
      expect(asc.status).toBe(200);
      const paths = asc.json().map((p: { project_path: string }) => p.project_path);
      expect(paths).toEqual([...paths].sort());
      expect(paths[0]).toBe('parity/a');
      const desc = await get('/api/v4/groups/parity/packages?order_by=project_path&sort=desc&per_page=100');
      expect(desc.json().map((p: { id: number }) => p.id)).toEqual(
        asc
          .json()
          .map((p: { id: number }) => p.id)
          .reverse(),
      );
      expect((await get('/api/v4/packages?order_by=project_path')).status).toBe(200);
    });

    it('is refused on a project listing, as GitLab’s project packages API refuses it', async () => {
      const res = await get(`/api/v4/projects/${a.id}/packages?order_by=project_path`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'order_by does not have a valid value' });
    });
  });

  describe('GET /projects/:id/packages/:package_id/pipelines', () => {
    it('answers an empty page with GitLab’s pagination headers: Stowage runs no pipelines', async () => {
      const res = await get(`/api/v4/projects/${a.id}/packages/${byStatus.get('default')}/pipelines`);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual([]);
      expect(res.headers).toMatchObject({ 'x-page': '1', 'x-per-page': '20', 'x-total': '0', 'x-total-pages': '1', 'x-next-page': '' });
      const five = await get(`/api/v4/projects/${a.id}/packages/${byStatus.get('default')}/pipelines?per_page=5&cursor=abc`);
      expect([five.status, five.headers['x-per-page']]).toEqual([200, '5']);
    });

    it.each(['0', '21', 'x'])('refuses per_page=%s (GitLab allows 1..20)', async (perPage) => {
      const res = await get(`/api/v4/projects/${a.id}/packages/${byStatus.get('default')}/pipelines?per_page=${perPage}`);
      expect(res.status).toBe(400);
      expect(res.json().error).toMatch(/^per_page /);
    });

    it('is a 404 for an unknown package or another project’s, and for who may not see the project', async () => {
      for (const url of [`/api/v4/projects/${a.id}/packages/99999999/pipelines`, `/api/v4/projects/${a.id}/packages/${goId}/pipelines`]) {
        const res = await get(url);
        expect(res.status).toBe(404);
        expect(res.json()).toEqual({ message: '404 Package Not Found' });
      }
      const stranger = await get(`/api/v4/projects/${a.id}/packages/${byStatus.get('default')}/pipelines`, outsider.token);
      expect(stranger.status).toBe(404);
      // A Guest may not list a private project's packages (as the other package reads).
      const byGuest = await get(`/api/v4/projects/${a.id}/packages/${byStatus.get('default')}/pipelines`, guest.token);
      expect(byGuest.status).toBe(403);
    });
  });
});
