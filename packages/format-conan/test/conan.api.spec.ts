import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import { startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { conanFormat } from '../src';
import { send } from './conan.replay';
import { blobFiles, conanPackages } from './conan.support';

const RREV = 'a'.repeat(32);
const PREV = 'b'.repeat(32);
const PKGID = 'cb054d0b3e1ca595dc66bc2339d40f1f8f04ab31';
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

// Auth and bad input on the Conan routes: clear statuses, and nothing stored when refused.
describe.each(testModes())('conan auth and bad input (%s)', (mode) => {
  let s: TestServer;
  let maintainer: TestUser;
  let developer: TestUser;
  let reporter: TestUser;
  let outsider: TestUser;
  let project: TestProject;
  let v1: string;
  let v2: string;

  const req = (method: string, path: string, headers: Record<string, string> = {}, body: Buffer | string = Buffer.alloc(0)) =>
    send(s.url, method, path, headers, Buffer.isBuffer(body) ? body : Buffer.from(body));
  const bearer = async (authorization: string) => {
    const res = await req('GET', `${v1}/users/authenticate`, { authorization });
    expect(res.status).toBe(200);
    return `Bearer ${res.body.toString()}`;
  };
  // Blobs of packages deleted earlier stay until the collector's grace period ends: compare with before.
  let blobsBefore: string[] = [];
  const nothingStored = async () => {
    expect(await conanPackages(s, project.id)).toEqual([]);
    expect(await blobFiles(s)).toEqual(blobsBefore);
  };

  beforeAll(async () => {
    s = await startTestServer({
      formats: [conanFormat],
      mode,
      listen: true,
      config: { formats: { conan: { max_file_size: 1024, token_lifetime: 2 } } },
    });
    const group = await s.api.createGroup('conan-api');
    project = await s.api.createProject('private-proj', { namespaceId: group.id });
    maintainer = await s.api.createUser('maint');
    developer = await s.api.createUser('dev');
    reporter = await s.api.createUser('rep');
    outsider = await s.api.createUser('outsider');
    await s.api.addMember({ project: project.id }, maintainer.id, 40);
    await s.api.addMember({ project: project.id }, developer.id, 30);
    await s.api.addMember({ project: project.id }, reporter.id, 20);
    v1 = `/api/v4/projects/${project.id}/packages/conan/v1`;
    v2 = `/api/v4/projects/${project.id}/packages/conan/v2`;
  });
  afterAll(async () => {
    await s?.close();
  });

  describe('auth', () => {
    it('ping needs no credentials and advertises revisions', async () => {
      const res = await req('GET', `${v1}/ping`);
      expect(res.status).toBe(200);
      expect(res.headers['x-conan-server-capabilities']).toBe('revisions');
    });

    it('authenticate with a personal token (any user name): a bearer token the other routes accept', async () => {
      const res = await req('GET', `${v1}/users/authenticate`, { authorization: basic('whoever', developer.token) });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const token = res.body.toString();
      expect(token).toMatch(/^\S+$/);
      const check = await req('GET', `${v2}/users/check_credentials`, { authorization: `Bearer ${token}` });
      expect([check.status, check.body.toString()]).toEqual([200, 'ok']);
      expect((await req('GET', `${v2}/conans/search?q=*`, { authorization: `Bearer ${token}` })).status).toBe(200);
    });

    it('authenticate with a deploy token: its bearer uploads and downloads', async () => {
      const deploy = await s.api.createDeployToken({ project: project.id }, ['read_package_registry', 'write_package_registry']);
      const auth = await bearer(basic(deploy.username, deploy.token));
      const file = `${v2}/conans/dep/1.0/_/_/revisions/${RREV}/files/conanfile.py`;
      const body = Buffer.from('from conan import ConanFile\n');
      expect((await req('PUT', file, { authorization: auth, 'x-checksum-sha1': sha1(body) }, body)).status).toBe(200);
      const got = await req('GET', file, { authorization: auth });
      expect(got.status).toBe(200);
      expect(got.body.equals(body)).toBe(true);
      // Deploy tokens may not delete (maintainer+ only).
      expect((await req('DELETE', `${v2}/conans/dep/1.0/_/_/revisions/${RREV}`, { authorization: auth })).status).toBe(403);
      expect(
        (await req('DELETE', `${v2}/conans/dep/1.0/_/_/revisions/${RREV}`, { authorization: basic('m', maintainer.token) })).status,
      ).toBe(200);
      expect(await conanPackages(s, project.id)).toEqual([]);
    });

    it('takes any Basic user name with a deploy or job token, as GitLab’s Conan API (its docs log CI in as ci_user)', async () => {
      const deploy = await s.api.createDeployToken({ project: project.id }, ['read_package_registry']);
      const job = await s.api.inject({
        method: 'POST',
        url: `/api/v4/projects/${project.id}/job_tokens`,
        token: developer.token,
        payload: {},
      });
      for (const secret of [deploy.token, job.json().token as string]) {
        expect((await req('GET', `${v1}/users/authenticate`, { authorization: basic('ci_user', secret) })).status).toBe(200);
        const direct = await req('GET', `${v2}/users/check_credentials`, { authorization: basic('ci_user', secret) });
        expect([direct.status, direct.body.toString()]).toEqual([200, 'ok']);
      }
    });

    it('a wrong password gets 401 from authenticate and check_credentials', async () => {
      expect((await req('GET', `${v1}/users/authenticate`, { authorization: basic('dev', 'wrong') })).status).toBe(401);
      expect((await req('GET', `${v1}/users/check_credentials`, { authorization: basic('dev', 'wrong') })).status).toBe(401);
      expect((await req('GET', `${v1}/users/check_credentials`)).status).toBe(401);
    });

    it('an expired bearer gets 401 (the client then logs in again)', async () => {
      const auth = await bearer(basic('dev', developer.token));
      expect((await req('GET', `${v1}/users/check_credentials`, { authorization: auth })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2200));
      expect((await req('GET', `${v1}/users/check_credentials`, { authorization: auth })).status).toBe(401);
      expect((await req('GET', `${v2}/conans/hello/0.1/_/_/latest`, { authorization: auth })).status).toBe(401);
      expect((await req('GET', `${v1}/users/check_credentials`, { authorization: 'Bearer garbage' })).status).toBe(401);
    });

    it('a private project is invisible: 404 to non-members, 401 (log in) to anonymous callers', async () => {
      const body = Buffer.from('[settings]\nos=Linux\n');
      const file = `${v2}/conans/hello/0.1/_/_/revisions/${RREV}/packages/${PKGID}/revisions/${PREV}/files/conaninfo.txt`;
      expect((await req('PUT', file, { authorization: basic('dev', developer.token) }, body)).status).toBe(200);
      for (const path of [`${v2}/conans/hello/0.1/_/_/latest`, `${v1}/conans/search?q=hello`, `${v1}/conans/hello/0.1/_/_`]) {
        expect((await req('GET', path, { authorization: basic('o', outsider.token) })).status).toBe(404);
        expect((await req('GET', path)).status).toBe(401);
      }
      // Instance remote: the recipe user names the project; hidden the same way.
      const inst = `/api/v4/packages/conan/v1/conans/hello/0.1/${project.path_with_namespace.replace('/', '+')}/stable`;
      expect((await req('GET', inst, { authorization: basic('o', outsider.token) })).status).toBe(404);
      const search = await req('GET', '/api/v4/packages/conan/v1/conans/search?q=hello', { authorization: basic('o', outsider.token) });
      expect(JSON.parse(search.body.toString())).toEqual({ results: [] });
      // A reporter reads but may not upload; a developer may not delete.
      expect(
        (await req('GET', `${v2}/conans/hello/0.1/_/_/revisions/${RREV}/search`, { authorization: basic('r', reporter.token) })).status,
      ).toBe(200);
      expect((await req('PUT', file, { authorization: basic('r', reporter.token) }, body)).status).toBe(403);
      expect((await req('DELETE', `${v2}/conans/hello/0.1/_/_`, { authorization: basic('d', developer.token) })).status).toBe(403);
      expect((await req('DELETE', `${v2}/conans/hello/0.1/_/_`, { authorization: basic('m', maintainer.token) })).status).toBe(200);
      expect(await conanPackages(s, project.id)).toEqual([]);
    });
  });

  describe('bad input: a clear status and nothing stored', () => {
    const dev = () => ({ authorization: basic('dev', developer.token) });
    beforeEach(async () => {
      blobsBefore = await blobFiles(s);
    });
    const bytes = Buffer.from('some bytes');

    it.each([
      ['pac$kage/1.0/_/_', 400],
      ['pkg/1.0.$/_/_', 400],
      ['..%2F..%2Ffoo++..%2F../1.0/_/_', 400],
      ['pkg/1.0/us$er/stable', 400],
      ['pkg/1.0/_/stable', 404],
      ['p/1.0/_/_', 400],
    ])('malformed reference %s → %d', async (ref, status) => {
      expect((await req('PUT', `${v1}/files/${ref}/0/export/conanfile.py`, dev(), bytes)).status).toBe(status);
      expect((await req('PUT', `${v2}/conans/${ref}/revisions/${RREV}/files/conanfile.py`, dev(), bytes)).status).toBe(status);
      expect((await req('GET', `${v1}/conans/${ref}`, dev())).status).toBe(status);
      await nothingStored();
    });

    it.each([
      'conanfile.py.git%2fgit-upload-pack',
      '..%2f..%2fconanfile.py',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      'conaninfo.txttest',
      'conan_package.tgz', // a package file on the recipe route
    ])('file name %s → 400', async (name) => {
      expect((await req('PUT', `${v1}/files/pkg/1.0/_/_/0/export/${name}`, dev(), bytes)).status).toBe(400);
      expect((await req('PUT', `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/files/${name}`, dev(), bytes)).status).toBe(400);
      await nothingStored();
    });

    it('revisions: v1 takes only 0, v2 only 32/40 hex; an unknown revision is 404', async () => {
      expect((await req('PUT', `${v1}/files/pkg/1.0/_/_/1/export/conanfile.py`, dev(), bytes)).status).toBe(400);
      expect((await req('PUT', `${v1}/files/pkg/1.0/_/_/0/package/${PKGID}/1/conaninfo.txt`, dev(), bytes)).status).toBe(400);
      expect((await req('PUT', `${v2}/conans/pkg/1.0/_/_/revisions/0/files/conanfile.py`, dev(), bytes)).status).toBe(400);
      expect((await req('PUT', `${v2}/conans/pkg/1.0/_/_/revisions/${'g'.repeat(32)}/files/conanfile.py`, dev(), bytes)).status).toBe(400);
      expect(
        (await req('PUT', `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/packages/bad-id/revisions/${PREV}/files/conaninfo.txt`, dev(), bytes))
          .status,
      ).toBe(400);
      await nothingStored();
      expect((await req('PUT', `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/files/conanfile.py`, dev(), bytes)).status).toBe(200);
      const unknown = 'c'.repeat(40);
      for (const path of [
        `revisions/${unknown}/files`,
        `revisions/${unknown}/files/conanfile.py`,
        `revisions/${RREV}/packages/${PKGID}/latest`,
        `revisions/${unknown}/search`,
      ]) {
        expect([path, (await req('GET', `${v2}/conans/pkg/1.0/_/_/${path}`, dev())).status]).toEqual([path, 404]);
      }
      expect(
        (await req('DELETE', `${v2}/conans/pkg/1.0/_/_/revisions/${unknown}`, { authorization: basic('m', maintainer.token) })).status,
      ).toBe(404);
      expect((await req('DELETE', `${v2}/conans/pkg/1.0/_/_`, { authorization: basic('m', maintainer.token) })).status).toBe(200);
      expect(await conanPackages(s, project.id)).toEqual([]);
    });

    it('oversize files (declared or streamed) → 400 "File is too large"', async () => {
      const big = randomBytes(2048);
      const declared = await req('PUT', `${v1}/files/pkg/1.0/_/_/0/export/conan_export.tgz`, dev(), big);
      expect(declared.status).toBe(400);
      expect(declared.body.toString()).toContain('File is too large');
      const streamed = await new Promise<number>((resolve, reject) => {
        const url = new URL(s.url);
        const r = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method: 'PUT',
            path: `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/files/conan_export.tgz`,
            headers: { ...dev(), 'transfer-encoding': 'chunked' },
            agent: false,
          },
          (res: import('node:http').IncomingMessage) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        r.on('error', reject);
        r.write(big.subarray(0, 1000));
        r.end(big.subarray(1000));
      });
      expect(streamed).toBe(400);
      await nothingStored();
    });

    it('the instance remote needs a project path as recipe user: `_` or an unknown path → 404', async () => {
      expect((await req('GET', '/api/v4/packages/conan/v1/conans/pkg/1.0/_/_', dev())).status).toBe(404);
      expect(
        (await req('PUT', '/api/v4/packages/conan/v1/files/pkg/1.0/nobody+nothing/stable/0/export/conanfile.py', dev(), bytes)).status,
      ).toBe(404);
      await nothingStored();
    });

    it('with duplicates refused, a stored file is not replaced by other bytes (identical bytes are fine)', async () => {
      await s.api.setPackageSettings({ project: project.id }, { conan_duplicates_allowed: false });
      try {
        const url = `${v1}/files/dup/1.0/_/_/0/export/conanfile.py`;
        expect((await req('PUT', url, dev(), 'one')).status).toBe(200);
        expect((await req('PUT', url, dev(), 'one')).status).toBe(200);
        const refused = await req('PUT', url, dev(), 'two');
        expect([refused.status, refused.body.toString()]).toEqual([
          400,
          JSON.stringify({ message: '400 Bad request - Duplicate package is not allowed' }),
        ]);
        expect((await req('GET', url, dev())).body.toString()).toBe('one');
      } finally {
        await s.api.setPackageSettings({ project: project.id }, { conan_duplicates_allowed: true });
        await req('DELETE', `${v1}/conans/dup/1.0/_/_`, { authorization: basic('m', maintainer.token) });
      }
    });

    it('a malformed conaninfo.txt and a non-object upload_urls body → 400', async () => {
      const info = `${v2}/conans/pkg/1.0/_/_/revisions/${RREV}/packages/${PKGID}/revisions/${PREV}/files/conaninfo.txt`;
      expect((await req('PUT', info, dev(), '[settings\nos=Linux\n')).status).toBe(400);
      expect((await req('PUT', info, dev(), '[settings]\nos\n')).status).toBe(400);
      const json = { ...dev(), 'content-type': 'application/json' };
      expect((await req('POST', `${v1}/conans/pkg/1.0/_/_/upload_urls`, json, '["conanfile.py"]')).status).toBe(400);
      expect(
        (
          await req('POST', `${v1}/conans/pkg/1.0/_/_/upload_urls`, json, '{"conanfile.py": 10, "evil.txt": 3, "conaninfo.txt": 4}')
        ).body.toString(),
      ).toMatch(/^\{"conanfile.py":"http:\/\/[^"]+\/v1\/files\/pkg\/1.0\/_\/_\/0\/export\/conanfile.py"\}$/);
      const search = await req('GET', `${v1}/conans/search?q=${'a'.repeat(201)}`, dev());
      expect(search.status).toBe(400);
      expect((await req('GET', `${v1}/conans/search?q=a*b*c*d*e*f*`, dev())).status).toBe(400);
      await nothingStored();
    });
  });
});
