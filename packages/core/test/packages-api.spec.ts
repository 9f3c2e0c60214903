import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { Module } from '@nestjs/common';
import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { AccessLevel, BlobCollector, defineFormatPlugin, PackageService } from '../src';
import { genericFormat } from './generic-fixture';

// GitLab's shared Packages API (https://docs.gitlab.com/api/packages/) over generic packages:
// lists with filters, ordering and pagination headers, group lists, package and file deletion.

/** A second, route-less format so that `package_type` filters and `order_by=type` mean something. */
@Module({})
class OtherFormatModule {
  static register() {
    return { module: OtherFormatModule };
  }
}
const otherFormat = defineFormatPlugin({ name: 'aaa_other', module: OtherFormatModule });

const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

async function filesUnder(dir: string, skip: string[] = []): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (skip.includes(relative(dir, p))) continue;
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

describe.each(testModes())('Packages API (%s)', (mode) => {
  let s: TestServer;
  let a: TestProject; // acme/a: most packages
  let b: TestProject; // acme/sub/b: a subgroup's project
  let c: TestProject; // acme/c: a project only root can read
  let outside: TestProject; // another group
  let dev: TestUser;
  let maintainer: TestUser;
  let outsider: TestUser;
  /** Package ids by "name@version". */
  const ids = new Map<string, number>();

  const put = async (project: TestProject, path: string, body: string | Buffer, query = '') => {
    const res = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${project.id}/packages/generic/${path}${query}`,
      token: s.rootToken,
      payload: Buffer.from(body),
    });
    expect(res.status).toBe(201);
  };
  /** As root unless a token is given; `null` is anonymous. */
  const get = (url: string, token: string | null = s.rootToken) => s.api.inject({ url, token: token ?? undefined });
  const names = (list: { name: string; version: string }[]) => list.map((p) => `${p.name}@${p.version}`);

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat, otherFormat], mode, listen: false });
    const group = await s.api.createGroup('acme');
    const sub = await s.api.createGroup('sub', { parentId: group.id });
    const elsewhere = await s.api.createGroup('elsewhere');
    a = await s.api.createProject('a', { namespaceId: group.id });
    b = await s.api.createProject('b', { namespaceId: sub.id });
    c = await s.api.createProject('c', { namespaceId: group.id });
    outside = await s.api.createProject('outside', { namespaceId: elsewhere.id });
    dev = await s.api.createUser('dev');
    maintainer = await s.api.createUser('maint');
    outsider = await s.api.createUser('outsider');
    await s.api.addMember({ project: a.id }, dev.id, AccessLevel.DEVELOPER);
    await s.api.addMember({ project: a.id }, maintainer.id, AccessLevel.MAINTAINER);

    // Created in this order, so created_at order is this order.
    await put(a, 'alpha/1.0.0/a.txt', 'alpha one');
    await put(a, 'beta/2.0.0/b.txt', 'beta two');
    await put(a, 'gamma/1.5.0/g.txt', 'gamma');
    await put(a, 'alpha/1.1.0/a.txt', 'alpha one one');
    await put(a, 'secret/1.0.0/s.txt', 'hidden', '?status=hidden');
    await put(a, 'alphabet/3.0.0/x.txt', 'alphabet');
    const packages = s.app.get(PackageService);
    await packages.write((w) => w.upsertPackage({ projectId: a.id, packageType: 'aaa_other', name: 'zeta', version: '0.1.0' }));
    await put(b, 'subpkg/1.0.0/s.txt', 'in the subgroup');
    await put(c, 'cpkg/1.0.0/c.txt', 'root only');
    await put(outside, 'outpkg/1.0.0/o.txt', 'elsewhere');

    for (const project of [a, b, c]) {
      const res = await get(`/api/v4/projects/${project.id}/packages?per_page=100&status=hidden`);
      for (const p of res.json()) ids.set(`${p.name}@${p.version}`, p.id);
      const all = await get(`/api/v4/projects/${project.id}/packages?per_page=100`);
      for (const p of all.json()) ids.set(`${p.name}@${p.version}`, p.id);
    }
  });
  afterAll(() => s?.close());

  describe('GET /projects/:id/packages', () => {
    it('lists visible packages oldest first, hidden ones left out, in GitLab’s shape', async () => {
      const res = await get(`/api/v4/projects/${a.id}/packages`);
      expect(res.status).toBe(200);
      const list = res.json();
      expect(names(list)).toEqual(['alpha@1.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'alpha@1.1.0', 'alphabet@3.0.0', 'zeta@0.1.0']);
      expect(list[0]).toMatchObject({
        id: ids.get('alpha@1.0.0'),
        name: 'alpha',
        version: '1.0.0',
        package_type: 'generic',
        status: 'default',
        _links: { delete_api_path: expect.stringMatching(new RegExp(`/api/v4/projects/${a.id}/packages/${ids.get('alpha@1.0.0')}$`)) },
      });
      expect(new Date(list[0].created_at).getTime()).not.toBeNaN();
      expect(res.headers['x-total']).toBe('6');
    });

    it.each([
      ['package_type=generic', ['alpha@1.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'alpha@1.1.0', 'alphabet@3.0.0']],
      ['package_type=aaa_other', ['zeta@0.1.0']],
      ['package_type=npm', []],
      ['package_name=alpha', ['alpha@1.0.0', 'alpha@1.1.0', 'alphabet@3.0.0']],
      ['package_name=ALPH', ['alpha@1.0.0', 'alpha@1.1.0', 'alphabet@3.0.0']],
      ['package_name=alpha&package_version=1.1.0', ['alpha@1.1.0']],
      ['package_version=1.0.0', ['alpha@1.0.0']],
      ['status=hidden', ['secret@1.0.0']],
      ['status=default&package_name=secret', []],
      ['package_name=nothing-like-it', []],
      ['order_by=name', ['alpha@1.0.0', 'alpha@1.1.0', 'alphabet@3.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'zeta@0.1.0']],
      ['order_by=name&sort=desc', ['zeta@0.1.0', 'gamma@1.5.0', 'beta@2.0.0', 'alphabet@3.0.0', 'alpha@1.1.0', 'alpha@1.0.0']],
      ['order_by=version', ['zeta@0.1.0', 'alpha@1.0.0', 'alpha@1.1.0', 'gamma@1.5.0', 'beta@2.0.0', 'alphabet@3.0.0']],
      ['order_by=version&sort=desc', ['alphabet@3.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'alpha@1.1.0', 'alpha@1.0.0', 'zeta@0.1.0']],
      ['order_by=created_at&sort=desc', ['zeta@0.1.0', 'alphabet@3.0.0', 'alpha@1.1.0', 'gamma@1.5.0', 'beta@2.0.0', 'alpha@1.0.0']],
      ['order_by=type', ['zeta@0.1.0', 'alpha@1.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'alpha@1.1.0', 'alphabet@3.0.0']],
      ['order_by=type&sort=desc', ['alphabet@3.0.0', 'alpha@1.1.0', 'gamma@1.5.0', 'beta@2.0.0', 'alpha@1.0.0', 'zeta@0.1.0']],
    ])('?%s', async (query, expected) => {
      const res = await get(`/api/v4/projects/${a.id}/packages?${query}`);
      expect(res.status).toBe(200);
      expect(names(res.json())).toEqual(expected);
      expect(res.headers['x-total']).toBe(String(expected.length));
    });

    it.each([
      ['package_type=tarball', 'package_type does not have a valid value'],
      ['status=bogus', 'status does not have a valid value'],
      ['order_by=size', 'order_by does not have a valid value'],
      ['sort=up', 'sort does not have a valid value'],
    ])('rejects ?%s with 400', async (query, error) => {
      const res = await get(`/api/v4/projects/${a.id}/packages?${query}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error });
    });

    it('paginates with GitLab’s headers and Link relations', async () => {
      const pages: string[][] = [];
      for (const page of [1, 2, 3]) {
        const res = await get(`/api/v4/projects/${a.id}/packages?order_by=name&per_page=2&page=${page}`);
        expect(res.status).toBe(200);
        expect(res.headers).toMatchObject({
          'x-total': '6',
          'x-total-pages': '3',
          'x-page': String(page),
          'x-per-page': '2',
          'x-next-page': page < 3 ? String(page + 1) : '',
          'x-prev-page': page > 1 ? String(page - 1) : '',
        });
        const links = Object.fromEntries(
          String(res.headers.link)
            .split(', ')
            .map((l) => {
              const [, href, rel] = /^<([^>]+)>; rel="(\w+)"$/.exec(l)!;
              return [rel, new URL(href)];
            }),
        );
        expect(Object.keys(links).sort()).toEqual([...(page > 1 ? ['prev'] : []), ...(page < 3 ? ['next'] : []), 'first', 'last'].sort());
        for (const [rel, n] of [
          ['first', 1],
          ['last', 3],
          ['next', page + 1],
          ['prev', page - 1],
        ] as const) {
          if (!links[rel]) continue;
          expect(links[rel].pathname).toBe(`/api/v4/projects/${a.id}/packages`);
          expect(links[rel].searchParams.get('page')).toBe(String(n));
          expect(links[rel].searchParams.get('per_page')).toBe('2');
          expect(links[rel].searchParams.get('order_by')).toBe('name');
        }
        pages.push(names(res.json()));
      }
      expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
      expect(pages.flat()).toEqual(['alpha@1.0.0', 'alpha@1.1.0', 'alphabet@3.0.0', 'beta@2.0.0', 'gamma@1.5.0', 'zeta@0.1.0']);

      const beyond = await get(`/api/v4/projects/${a.id}/packages?per_page=2&page=4`);
      expect(beyond.status).toBe(200);
      expect(beyond.json()).toEqual([]);
      expect(beyond.headers['x-next-page']).toBe('');
      const invalid = await get(`/api/v4/projects/${a.id}/packages?page=0`);
      expect(invalid.status).toBe(400);
    });

    it('is readable by members, addressed by id or full path; hidden from others as GitLab’s REST API does', async () => {
      const byPath = await get(`/api/v4/projects/${encodeURIComponent('acme/a')}/packages`, dev.token);
      expect(byPath.status).toBe(200);
      expect(byPath.json()).toHaveLength(6);
      const stranger = await get(`/api/v4/projects/${a.id}/packages`, outsider.token);
      expect(stranger.status).toBe(404);
      expect(stranger.json()).toEqual({ message: '404 Project Not Found' });
      const anonymous = await get(`/api/v4/projects/${a.id}/packages`, null);
      expect(anonymous.status).toBe(404);
      expect(anonymous.json()).toEqual({ message: '404 Project Not Found' });
      const badToken = await get(`/api/v4/projects/${a.id}/packages`, 'stwpat-nope');
      expect(badToken.status).toBe(401);
    });
  });

  describe('GET /groups/:id/packages', () => {
    it('lists the packages of every project in the group and its subgroups, with their project', async () => {
      const res = await get('/api/v4/groups/acme/packages?per_page=100');
      expect(res.status).toBe(200);
      const list = res.json();
      expect(names(list).sort()).toEqual(
        ['alpha@1.0.0', 'alpha@1.1.0', 'alphabet@3.0.0', 'beta@2.0.0', 'cpkg@1.0.0', 'gamma@1.5.0', 'subpkg@1.0.0', 'zeta@0.1.0'].sort(),
      );
      expect(list.find((p: { name: string }) => p.name === 'subpkg')).toMatchObject({ project_id: b.id, project_path: 'acme/sub/b' });
      expect(res.headers['x-total']).toBe('8');
    });

    it('leaves subgroups out with exclude_subgroups=true', async () => {
      const res = await get('/api/v4/groups/acme/packages?per_page=100&exclude_subgroups=true');
      expect(res.status).toBe(200);
      expect(names(res.json())).not.toContain('subpkg@1.0.0');
      expect(res.json()).toHaveLength(7);
      const sub = await get(`/api/v4/groups/${encodeURIComponent('acme/sub')}/packages`);
      expect(names(sub.json())).toEqual(['subpkg@1.0.0']);
    });

    it('applies the same filters and ordering', async () => {
      const res = await get('/api/v4/groups/acme/packages?package_name=pkg&order_by=name&sort=desc');
      expect(names(res.json())).toEqual(['subpkg@1.0.0', 'cpkg@1.0.0']);
      const hidden = await get('/api/v4/groups/acme/packages?status=hidden');
      expect(names(hidden.json())).toEqual(['secret@1.0.0']);
    });

    it('shows a member only the projects they may read', async () => {
      const res = await get('/api/v4/groups/acme/packages?per_page=100', dev.token);
      expect(res.status).toBe(200);
      expect(new Set(res.json().map((p: { project_id: number }) => p.project_id))).toEqual(new Set([a.id]));
      expect(res.headers['x-total']).toBe('6');
    });

    it('hides a private group from outsiders and anonymous callers (404)', async () => {
      for (const token of [outsider.token, null]) {
        const res = await get('/api/v4/groups/acme/packages', token);
        expect(res.status).toBe(404);
        expect(res.json()).toEqual({ message: '404 Group Not Found' });
      }
    });
  });

  describe('single packages and their files', () => {
    const files = { 'one.bin': Buffer.from('first file of the package\n'), 'two.bin': Buffer.from('second file, other bytes\n') };
    let pkgId: number;

    beforeAll(async () => {
      for (const [name, bytes] of Object.entries(files)) await put(a, `files-pkg/1.0.0/${name}`, bytes);
      const res = await get(`/api/v4/projects/${a.id}/packages?package_name=files-pkg`);
      pkgId = res.json()[0].id;
    });

    it('GET /projects/:id/packages/:package_id shows one package; other projects’ ids are 404', async () => {
      const res = await get(`/api/v4/projects/${a.id}/packages/${pkgId}`, dev.token);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ id: pkgId, name: 'files-pkg', version: '1.0.0', package_type: 'generic', status: 'default' });
      expect((await get(`/api/v4/projects/${b.id}/packages/${pkgId}`)).status).toBe(404);
      expect((await get(`/api/v4/projects/${a.id}/packages/99999999`)).status).toBe(404);
      expect((await get(`/api/v4/projects/${a.id}/packages/${pkgId}`, outsider.token)).status).toBe(404);
    });

    it('GET …/package_files lists each file with the checksums of the uploaded bytes', async () => {
      const res = await get(`/api/v4/projects/${a.id}/packages/${pkgId}/package_files`, dev.token);
      expect(res.status).toBe(200);
      expect(res.headers['x-total']).toBe('2');
      const list = res.json();
      expect(list).toHaveLength(2);
      for (const [i, [name, bytes]] of Object.entries(files).entries()) {
        expect(list[i]).toMatchObject({
          package_id: pkgId,
          file_name: name,
          size: bytes.length,
          file_sha256: sha('sha256', bytes),
          file_md5: sha('md5', bytes),
          file_sha1: sha('sha1', bytes),
        });
        expect(typeof list[i].id).toBe('number');
      }
    });

    it('DELETE …/package_files/:file_id needs maintainer; the file is gone and its bytes are collected', async () => {
      const list = (await get(`/api/v4/projects/${a.id}/packages/${pkgId}/package_files`)).json();
      const two = list.find((f: { file_name: string }) => f.file_name === 'two.bin');
      const url = `/api/v4/projects/${a.id}/packages/${pkgId}/package_files/${two.id}`;
      const blobFiles = async () => (await filesUnder(s.storagePath, ['tmp'])).length;
      const before = await blobFiles();

      const byDev = await s.api.inject({ method: 'DELETE', url, token: dev.token });
      expect(byDev.status).toBe(403);
      expect(byDev.json()).toEqual({ message: '403 Forbidden' });
      const byOutsider = await s.api.inject({ method: 'DELETE', url, token: outsider.token });
      expect(byOutsider.status).toBe(404);
      const byMaintainer = await s.api.inject({ method: 'DELETE', url, token: maintainer.token });
      expect(byMaintainer.status).toBe(204);
      expect(byMaintainer.body).toBe('');
      expect((await s.api.inject({ method: 'DELETE', url, token: maintainer.token })).status).toBe(404);

      const after = (await get(`/api/v4/projects/${a.id}/packages/${pkgId}/package_files`)).json();
      expect(after.map((f: { file_name: string }) => f.file_name)).toEqual(['one.bin']);
      expect((await get(`/api/v4/projects/${a.id}/packages/generic/files-pkg/1.0.0/two.bin`)).status).toBe(404);
      const one = await get(`/api/v4/projects/${a.id}/packages/generic/files-pkg/1.0.0/one.bin`);
      expect(one.status).toBe(200);
      expect(one.rawPayload.equals(files['one.bin'])).toBe(true);

      // The bytes stay until the collector runs; then only that blob goes.
      expect(await blobFiles()).toBe(before);
      expect(await s.app.get(BlobCollector).collect(0)).toBe(1);
      expect(await blobFiles()).toBe(before - 1);
    });

    it('DELETE /projects/:id/packages/:package_id needs maintainer (developer 403); then the package is gone', async () => {
      const url = `/api/v4/projects/${a.id}/packages/${pkgId}`;
      const byDev = await s.api.inject({ method: 'DELETE', url, token: dev.token });
      expect(byDev.status).toBe(403);
      expect((await get(url)).status).toBe(200);
      const byMaintainer = await s.api.inject({ method: 'DELETE', url, token: maintainer.token });
      expect(byMaintainer.status).toBe(204);
      expect((await get(url)).status).toBe(404);
      expect((await s.api.inject({ method: 'DELETE', url, token: maintainer.token })).status).toBe(404);
      expect((await get(`/api/v4/projects/${a.id}/packages/generic/files-pkg/1.0.0/one.bin`)).status).toBe(404);
      expect(names((await get(`/api/v4/projects/${a.id}/packages?package_name=files-pkg`)).json())).toEqual([]);
    });
  });

  it('once every package is deleted and the collector has run, the storage directory holds no file', async () => {
    for (const project of [a, b, c, outside]) {
      for (const status of ['default', 'hidden']) {
        const list = (await get(`/api/v4/projects/${project.id}/packages?per_page=100&status=${status}`)).json();
        for (const p of list) {
          const res = await s.api.inject({ method: 'DELETE', url: `/api/v4/projects/${project.id}/packages/${p.id}`, token: s.rootToken });
          expect(res.status).toBe(204);
        }
      }
    }
    expect((await filesUnder(s.storagePath, ['tmp'])).length).toBeGreaterThan(0);
    expect(await s.app.get(BlobCollector).collect(0)).toBeGreaterThan(0);
    expect(await filesUnder(s.storagePath)).toEqual([]);
  });
});
