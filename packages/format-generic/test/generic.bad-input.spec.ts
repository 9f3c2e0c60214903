import { randomBytes } from 'node:crypto';

import { http, type HttpResult, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { genericFormat } from '../src';
import { blobFiles, genericPath, listPackages, projectState, tempFiles } from './generic.support';

const LIMIT = 1024;

describe.each(testModes())('generic bad input (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  /** Where refused uploads go: it only ever holds the one good package. */
  let project: TestProject;
  /** Where the accepted cases of the tables go. */
  let accepting: TestProject;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true, config: { formats: { generic: { max_file_size: LIMIT } } } });
    project = await s.api.createProject('bad-proj');
    accepting = await s.api.createProject('ok-proj');
    dev = await s.api.createUser('bad-dev');
    await s.api.addMember({ project: project.id }, dev.id, 30);
    await s.api.addMember({ project: accepting.id }, dev.id, 30);
    // One good package so "nothing new stored" is measured against a non-empty state.
    const ok = await http(s.url, {
      method: 'PUT',
      path: genericPath(project.id, 'good/1.0.0/good.bin'),
      token: dev.token,
      body: randomBytes(100),
    });
    expect(ok.status).toBe(201);
  });
  afterAll(() => s?.close());

  /** Runs a request and checks that it stored nothing: same packages, files, blobs; no temp file. */
  async function refused(send: () => Promise<HttpResult>): Promise<HttpResult> {
    const [before, blobs] = await Promise.all([projectState(s, project.id), blobFiles(s)]);
    const res = await send();
    const after = await projectState(s, project.id);
    expect(after.packages.map((p) => p.id)).toEqual(before.packages.map((p) => p.id));
    expect(after.files.map((f) => f.id)).toEqual(before.files.map((f) => f.id));
    expect(await blobFiles(s)).toEqual(blobs);
    expect(await tempFiles(s)).toEqual([]);
    return res;
  }

  const put = (rest: string, body: Buffer | string = 'payload') =>
    refused(() => http(s.url, { method: 'PUT', path: genericPath(project.id, rest), token: dev.token, body }));

  describe('path traversal (raw and percent-encoded) → 400, nothing stored', () => {
    it.each([
      // package name
      ['..', '../1.0.0/file.txt', 'package_name'],
      ['%2e%2e', '%2e%2e/1.0.0/file.txt', 'package_name'],
      ['%2E%2E', '%2E%2E/1.0.0/file.txt', 'package_name'],
      ['my-package%2f%2e%2e%2f', 'my-package%2f%2e%2e%2f/1.0.0/file.txt', 'package_name'],
      ['my-package%2F..%2F', 'my-package%2F..%2F/1.0.0/file.txt', 'package_name'],
      ['%2f in the name', 'a%2fb/1.0.0/file.txt', 'package_name'],
      // version
      ['.. as version', 'pkg/../file.txt', 'package_version'],
      ['%2e%2e as version', 'pkg/%2e%2e/file.txt', 'package_version'],
      ['%2e%2e%2f1.2.3', 'pkg/%2e%2e%2f1.2.3/file.txt', 'package_version'],
      ['1.2.3%2f..%2f..', 'pkg/1.2.3%2f..%2f../file.txt', 'package_version'],
      // file name
      ['../.ssh%2fauthorized_keys', 'pkg/1.0.0/../.ssh%2fauthorized_keys', 'file_name'],
      ['%2e%2e%2f.ssh%2fauthorized_keys', 'pkg/1.0.0/%2e%2e%2f.ssh%2fauthorized_keys', 'file_name'],
      ['dir/../../x', 'pkg/1.0.0/dir/../../x', 'file_name'],
      ['dir/%2e%2e/%2e%2e/x', 'pkg/1.0.0/dir/%2e%2e/%2e%2e/x', 'file_name'],
      ['a%2f..%2f..%2fx', 'pkg/1.0.0/a%2f..%2f..%2fx', 'file_name'],
      ['./x', 'pkg/1.0.0/./x', 'file_name'],
      ['..', 'pkg/1.0.0/..', 'file_name'],
      ['%2e%2e', 'pkg/1.0.0/%2e%2e', 'file_name'],
      ['empty segment a//b', 'pkg/1.0.0/a//b', 'file_name'],
      ['%2f only', 'pkg/1.0.0/%2f', 'file_name'],
    ])('%s (%s) → %s is invalid', async (_label, rest, param) => {
      const res = await put(rest);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: `${param} is invalid` });
    });

    it('the same traversal on download → 400 (not a file outside the package)', async () => {
      for (const rest of ['good/1.0.0/../../good.bin', 'good/1.0.0/%2e%2e%2f%2e%2e%2fgood.bin', '..%2f..%2fgood/1.0.0/good.bin']) {
        const res = await http(s.url, { path: genericPath(project.id, rest), token: dev.token });
        expect([rest, res.status]).toEqual([rest, 400]);
        expect(res.json().error).toMatch(/^(package_name|package_version|file_name) is invalid$/);
      }
    });
  });

  describe('file names', () => {
    it.each([
      ['NUL', 'file%00.txt'],
      ['NUL at the end', 'file.txt%00'],
      ['a space', 'my%20file.txt'],
      ['a space in a directory', 'my%20dir/file.txt'],
      ['a tab', 'my%09file.txt'],
      ['a newline', 'file%0a.txt'],
      ['a backslash', '..%5c..%5cfile.txt'],
      ['non-ASCII', 'caf%C3%A9.txt'],
      ['a colon', 'c:file.txt'],
      ['a quote', 'a%22b.txt'],
    ])('%s (%s) → 400 file_name is invalid', async (_label, name) => {
      const res = await put(`pkg/1.0.0/${name}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'file_name is invalid' });
    });

    it('no file name at all → 4xx, nothing stored', async () => {
      const res = await put('pkg/1.0.0/');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.json()).toEqual({ error: 'file_name is invalid' });
    });
  });

  describe('package names', () => {
    it.each(['my%20pkg', 'pkg!', '@scope', 'my~pkg', 'pkg@1', 'a%2Cb', 'x'.repeat(256), '%00pkg'])(
      '%s → 400 package_name is invalid',
      async (name) => {
        const res = await put(`${name}/1.0.0/file.txt`);
        expect(res.status).toBe(400);
        expect(res.json()).toEqual({ error: 'package_name is invalid' });
      },
    );

    it.each(['my_pkg', 'My.Pkg-1', 'pkg+extra', '1'])('%s → 201', async (name) => {
      const res = await http(s.url, {
        method: 'PUT',
        path: genericPath(accepting.id, `${name}/1.0.0/file.txt`),
        token: dev.token,
        body: name,
      });
      expect(res.status).toBe(201);
      const listed = (await listPackages(s, accepting.id)).filter((p) => p.name === name);
      expect(listed.map((p) => p.version)).toEqual(['1.0.0']);
    });
  });

  describe('versions (GitLab’s version rule)', () => {
    it.each([
      '1.3.350-20201230123456',
      '1.2.3',
      '1.2.3g',
      '1.2',
      '1.2.bananas',
      'v1.2.4-build',
      'd2d9a8b5e0f7c8c2d2a1e3f4b5c6d7e8f9a0b1c2',
      '1.0.0+build.5',
      '2024_01_01',
    ])('%s → 201 and one more package', async (version) => {
      const before = (await listPackages(s, accepting.id)).length;
      const res = await http(s.url, {
        method: 'PUT',
        path: genericPath(accepting.id, `versions/${version}/v.txt`),
        token: dev.token,
        body: version,
      });
      expect(res.status).toBe(201);
      const after = await listPackages(s, accepting.id);
      expect(after.length).toBe(before + 1);
      expect(after.filter((p) => p.name === 'versions').map((p) => p.version)).toContain(version);
      const get = await http(s.url, { path: genericPath(accepting.id, `versions/${version}/v.txt`), token: dev.token });
      expect(get.text).toBe(version);
    });

    it.each([
      ['..1.2.3', 'package_version'],
      ['1.2..3', 'package_version'],
      ['%2e%2e%2f1.2.3', 'package_version'],
      ['1.2.3%2f4', 'package_version'],
      ['1.2%203', 'package_version'],
      ['1.2.3~beta', 'package_version'],
      ['1.2.3@x', 'package_version'],
      ['1'.repeat(256), 'package_version'],
      // `1.2.3-4/../../` from GitLab's spec: the `..` segments land in the file path.
      ['1.2.3-4/../..', 'file_name'],
    ])('%s → 400 %s is invalid, package count unchanged', async (version, param) => {
      const res = await put(`versions/${version}/v.txt`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: `${param} is invalid` });
    });
  });

  describe('bodies', () => {
    it('an empty body (Content-Length: 0) → 400 file is missing', async () => {
      const res = await put('empty/1.0.0/empty.bin', Buffer.alloc(0));
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'file is missing' });
    });

    it('no body at all (no Content-Length, not chunked) → 400 file is missing', async () => {
      const res = await refused(() =>
        http(s.url, { method: 'PUT', path: genericPath(project.id, 'empty/1.0.0/none.bin'), token: dev.token }),
      );
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'file is missing' });
    });

    it('an empty chunked body → 400 file is missing', async () => {
      const res = await refused(() =>
        http(s.url, { method: 'PUT', path: genericPath(project.id, 'empty/1.0.0/chunked.bin'), token: dev.token, chunks: [] }),
      );
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'file is missing' });
    });

    it('exactly the limit is accepted', async () => {
      const bytes = randomBytes(LIMIT);
      const path = genericPath(accepting.id, 'limit/1.0.0/exact.bin');
      expect((await http(s.url, { method: 'PUT', path, token: dev.token, body: bytes })).status).toBe(201);
      expect((await http(s.url, { path, token: dev.token })).body.equals(bytes)).toBe(true);
    });

    it('over the limit with Content-Length → 400 File is too large', async () => {
      const res = await put('limit/1.0.0/big.bin', randomBytes(LIMIT + 1));
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ message: '400 Bad request - File is too large' });
    });

    it('over the limit, chunked without Content-Length → 400 File is too large', async () => {
      const chunks = Array.from({ length: 8 }, () => randomBytes(300));
      const res = await refused(() =>
        http(s.url, { method: 'PUT', path: genericPath(project.id, 'limit/1.0.0/chunked.bin'), token: dev.token, chunks }),
      );
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ message: '400 Bad request - File is too large' });
    });

    it('chunked within the limit is accepted and stored exactly', async () => {
      const chunks = [randomBytes(300), randomBytes(300), randomBytes(100)];
      const path = genericPath(accepting.id, 'limit/1.0.0/chunked-ok.bin');
      expect((await http(s.url, { method: 'PUT', path, token: dev.token, chunks })).status).toBe(201);
      const res = await http(s.url, { path, token: dev.token });
      expect(res.body.equals(Buffer.concat(chunks))).toBe(true);
    });
  });

  describe('projects', () => {
    it.each(['999999', 'no-such%2Fproject', encodeURIComponent('root/does-not-exist')])(
      'unknown project %s → 404 Project Not Found',
      async (id) => {
        const res = await refused(() =>
          http(s.url, { method: 'PUT', path: genericPath(id, 'pkg/1.0.0/f.txt'), token: dev.token, body: 'x' }),
        );
        expect(res.status).toBe(404);
        expect(res.json()).toEqual({ message: '404 Project Not Found' });
        const get = await http(s.url, { path: genericPath(id, 'pkg/1.0.0/f.txt'), token: dev.token });
        expect(get.status).toBe(404);
        expect(get.json()).toEqual({ message: '404 Project Not Found' });
      },
    );

    it('packages disabled on the project → 403 with a message, upload and download', async () => {
      const other = await s.api.createProject('disabled-proj');
      await s.api.addMember({ project: other.id }, dev.id, 30);
      const ok = await http(s.url, { method: 'PUT', path: genericPath(other.id, 'pkg/1.0.0/f.txt'), token: dev.token, body: 'before' });
      expect(ok.status).toBe(201);
      await s.api.root('PUT', `/api/v4/projects/${other.id}`, { packages_enabled: false });
      const blobs = await blobFiles(s);
      const res = await http(s.url, { method: 'PUT', path: genericPath(other.id, 'pkg/1.0.0/g.txt'), token: dev.token, body: 'after' });
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ message: '403 Forbidden - Packages are disabled for this project' });
      expect(await blobFiles(s)).toEqual(blobs);
      const get = await http(s.url, { path: genericPath(other.id, 'pkg/1.0.0/f.txt'), token: dev.token });
      expect(get.status).toBe(403);
      expect(get.json()).toEqual({ message: '403 Forbidden - Packages are disabled for this project' });
      // Enabled again: the old file is back, the refused one never existed.
      await s.api.root('PUT', `/api/v4/projects/${other.id}`, { packages_enabled: true });
      expect((await http(s.url, { path: genericPath(other.id, 'pkg/1.0.0/f.txt'), token: dev.token })).text).toBe('before');
      expect((await http(s.url, { path: genericPath(other.id, 'pkg/1.0.0/g.txt'), token: dev.token })).status).toBe(404);
      const state = await projectState(s, other.id);
      expect(state.files.map((f) => f.file_name)).toEqual(['f.txt']);
    });
  });
});

describe.each(testModes())('generic format disabled by config (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true, config: { formats: { generic: { enabled: false } } } });
    project = await s.api.createProject('off-proj');
  });
  afterAll(() => s?.close());

  it('answers 404 on its routes and stores nothing; the rest of the API still works', async () => {
    for (const method of ['PUT', 'GET', 'HEAD']) {
      const res = await http(s.url, {
        method,
        path: genericPath(project.id, 'pkg/1.0.0/f.txt'),
        token: s.rootToken,
        ...(method === 'PUT' ? { body: 'x' } : {}),
      });
      expect([method, res.status]).toEqual([method, 404]);
      if (method !== 'HEAD') expect(res.json()).toEqual({ message: '404 Not Found' });
    }
    expect(await blobFiles(s)).toEqual([]);
    expect(await tempFiles(s)).toEqual([]);
    const list = await http(s.url, { path: `/api/v4/projects/${project.id}/packages`, token: s.rootToken });
    expect(list.status).toBe(200);
    expect(list.json()).toEqual([]);
  });
});
