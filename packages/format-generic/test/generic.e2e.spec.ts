import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { http, objectStoreMode, startTestServer, testModes, type TestProject, type TestServer, type TestUser } from '@stowage/testkit';

import { genericFormat } from '../src';
import {
  blobFiles,
  eventually,
  execFileAsync,
  genericPath,
  listFiles,
  listPackages,
  md5,
  projectState,
  sha1,
  sha256,
  tempFiles,
} from './generic.support';

describe.each(testModes())('generic packages end to end (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let project: TestProject;
  let work: string;
  const big = randomBytes(3 * 1024 * 1024 + 17);
  const encodedPath = () => encodeURIComponent(project.path_with_namespace);

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: true });
    work = await mkdtemp(join(tmpdir(), 'generic-e2e-'));
    const group = await s.api.createGroup('e2e-group');
    project = await s.api.createProject('e2e-proj', { namespaceId: group.id });
    dev = await s.api.createUser('e2e-dev');
    await s.api.addMember({ project: project.id }, dev.id, 30);
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // With object storage, downloads redirect to presigned URLs: curl follows them with --location.
  const curl = async (args: string[]) => {
    const follow = objectStoreMode() && !args.includes('--location') ? ['--location'] : [];
    const { stdout } = await execFileAsync('curl', ['--silent', '--show-error', ...follow, ...args], {
      encoding: 'buffer',
      maxBuffer: 64 << 20,
    });
    return stdout as Buffer;
  };

  describe('with curl, as GitLab documents it', () => {
    it('uploads with PRIVATE-TOKEN and --upload-file, downloads identical bytes with --output', async () => {
      const src = join(work, 'app.tar.gz');
      await writeFile(src, big);
      const url = `${s.url}${genericPath(project.id, 'my_app/1.0.0/app.tar.gz')}`;
      const put = await curl(['--fail', '--location', '--header', `PRIVATE-TOKEN: ${dev.token}`, '--upload-file', src, url]);
      expect(JSON.parse(put.toString())).toEqual({ message: '201 Created' });

      const out = join(work, 'app.out');
      const headers = join(work, 'h.txt');
      await curl(['--fail', '--location', '--header', `PRIVATE-TOKEN: ${dev.token}`, '--dump-header', headers, '--output', out, url]);
      const got = await readFile(out);
      expect(got.length).toBe(big.length);
      expect(got.equals(big)).toBe(true);
      const h = (await readFile(headers, 'utf8')).toLowerCase();
      expect(h).toContain(`x-checksum-sha256: ${sha256(big)}`);
    });

    it('uploads with --user name:token (?status=hidden&select=package_file) and downloads with --user', async () => {
      const src = join(work, 'basic.bin');
      const bytes = randomBytes(4096);
      await writeFile(src, bytes);
      const url = `${s.url}${genericPath(project.id, 'basic_app/2.0.0/basic.bin')}`;
      const put = await curl([
        '--fail',
        '--user',
        `anyname:${dev.token}`,
        '--upload-file',
        src,
        `${url}?status=hidden&select=package_file`,
      ]);
      const record = JSON.parse(put.toString());
      expect(record).toMatchObject({ file_name: 'basic.bin', size: 4096, file_sha256: sha256(bytes) });
      const got = await curl(['--fail', '--user', `someone-else:${dev.token}`, url]);
      expect(got.equals(bytes)).toBe(true);
    });

    it('uploads with a DEPLOY-TOKEN to the URL-encoded full path', async () => {
      const deploy = await s.api.createDeployToken({ project: project.id }, ['read_package_registry', 'write_package_registry']);
      const src = join(work, 'f');
      const bytes = randomBytes(1000);
      await writeFile(src, bytes);
      const url = `${s.url}/api/v4/projects/${encodedPath()}/packages/generic/deploy_app/1.0.0/f`;
      const put = await curl(['--fail', '--header', `DEPLOY-TOKEN: ${deploy.token}`, '--upload-file', src, url]);
      expect(JSON.parse(put.toString())).toEqual({ message: '201 Created' });
      const got = await curl([
        '--fail',
        '--user',
        `${deploy.username}:${deploy.token}`,
        `${s.url}${genericPath(project.id, 'deploy_app/1.0.0/f')}`,
      ]);
      expect(got.equals(bytes)).toBe(true);
    });
    it('stores the raw bytes of curl --data-binary (sent as a form content type) unparsed', async () => {
      const src = join(work, 'form.txt');
      const bytes = Buffer.from('a=1&b=2&c=%20\n');
      await writeFile(src, bytes);
      const url = `${s.url}${genericPath(project.id, 'form_app/1.0.0/form.txt')}`;
      await curl(['--fail', '--header', `PRIVATE-TOKEN: ${dev.token}`, '--request', 'PUT', '--data-binary', `@${src}`, url]);
      expect((await curl(['--fail', '--header', `PRIVATE-TOKEN: ${dev.token}`, url])).equals(bytes)).toBe(true);
    });
  });

  describe('download headers', () => {
    const file = 'my+file@1.tar.gz';
    const url = () => genericPath(project.id, `headers_app/1.0.0/${file}`);
    let uploadedAt: number;

    beforeAll(async () => {
      uploadedAt = Date.now();
      const put = await http(s.url, { method: 'PUT', path: url(), token: dev.token, body: big });
      expect(put.status).toBe(201);
    });

    it('GET returns the bytes with Content-Length, ETag, Last-Modified, Content-Disposition, checksum and octet-stream', async () => {
      const res = await http(s.url, { path: url(), token: dev.token });
      expect(res.status).toBe(200);
      expect(res.body.equals(big)).toBe(true);
      expect(res.headers['content-length']).toBe(String(big.length));
      // With object storage the bytes come from a presigned URL, which must name the file the same way.
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${file}"; filename*=UTF-8''${encodeURIComponent(file)}`);
      expect(res.headers['content-disposition']).toContain("filename*=UTF-8''my%2Bfile%401.tar.gz");
      expect(res.headers['accept-ranges']).toBe('bytes');
      // Stowage's own answer (the redirect, with object storage) carries the file's identity.
      const own = res.redirect?.headers ?? res.headers;
      expect(res.redirect?.status ?? 302).toBe(302);
      expect(Boolean(res.redirect)).toBe(objectStoreMode());
      expect(own['x-checksum-sha256']).toBe(sha256(big));
      expect(own.etag).toBe(`"${sha256(big)}"`);
      expect(own['content-disposition']).toBe(res.headers['content-disposition']);
      const lastModified = Date.parse(String(own['last-modified']));
      expect(Math.abs(lastModified - uploadedAt)).toBeLessThan(60_000);
    });

    it('HEAD has the same headers and no body', async () => {
      const get = await http(s.url, { path: url(), token: dev.token });
      const head = await http(s.url, { method: 'HEAD', path: url(), token: dev.token });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      for (const h of ['content-length', 'content-type', 'etag', 'last-modified', 'content-disposition', 'x-checksum-sha256']) {
        // With object storage the GET's own answer is the redirect (Content-Length 0); HEAD is answered by Stowage.
        const expected = h === 'content-length' ? get.headers[h] : (get.redirect?.headers ?? get.headers)[h];
        expect([h, head.headers[h]]).toEqual([h, expected]);
      }
    });

    it('If-None-Match with the ETag answers 304 without a body; another ETag gets 200', async () => {
      const etag = `"${sha256(big)}"`;
      const hit = await http(s.url, { path: url(), token: dev.token, headers: { 'if-none-match': etag } });
      expect(hit.status).toBe(304);
      expect(hit.body.length).toBe(0);
      expect(hit.headers.etag).toBe(etag);
      const miss = await http(s.url, { path: url(), token: dev.token, headers: { 'if-none-match': `"${sha256('other')}"` } });
      expect(miss.status).toBe(200);
      expect(miss.body.length).toBe(big.length);
    });

    // With object storage the client sends Range again to the presigned URL. s3rver answers suffix
    // ranges and `0-0` wrongly (S3 does not), so those two are checked on local storage only.
    it.each([
      ['bytes=100-199', 100, 199],
      ...(objectStoreMode() ? [] : [['bytes=-500', big.length - 500, big.length - 1] as const]),
      ['bytes=3000000-', 3000000, big.length - 1],
      ...(objectStoreMode() ? [] : [['bytes=0-0', 0, 0] as const]),
      [`bytes=10-${big.length + 1000}`, 10, big.length - 1],
    ] as (readonly [string, number, number])[])('Range %s → 206 with the right slice', async (range, start, end) => {
      const res = await http(s.url, { path: url(), token: dev.token, headers: { range } });
      expect(res.status).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${big.length}`);
      expect(res.headers['content-length']).toBe(String(end - start + 1));
      expect(res.body.equals(big.subarray(start, end + 1))).toBe(true);
    });

    it('an unsatisfiable Range → 416 with Content-Range bytes */size', async () => {
      for (const range of [`bytes=${big.length}-`, `bytes=${big.length + 5}-${big.length + 10}`]) {
        const res = await http(s.url, { path: url(), token: dev.token, headers: { range } });
        expect([range, res.status]).toEqual([range, 416]);
        expect(res.headers['content-range']).toBe(`bytes */${big.length}`);
        expect(res.body.length).toBe(0);
      }
    });

    it('Range with curl --range', async () => {
      const got = await curl(['--fail', '--header', `PRIVATE-TOKEN: ${dev.token}`, '--range', '1000-1999', `${s.url}${url()}`]);
      expect(got.equals(big.subarray(1000, 2000))).toBe(true);
    });
  });

  it('a one-byte file round-trips with its headers', async () => {
    const one = Buffer.from([0]);
    const path = genericPath(project.id, 'tiny/0.0.1/one.bin');
    expect((await http(s.url, { method: 'PUT', path, token: dev.token, body: one })).status).toBe(201);
    const res = await http(s.url, { path, token: dev.token });
    expect(res.status).toBe(200);
    expect(res.body.equals(one)).toBe(true);
    expect(res.headers['content-length']).toBe('1');
    expect((res.redirect?.headers ?? res.headers)['x-checksum-sha256']).toBe(sha256(one));
    const suffix = await http(s.url, { path, token: dev.token, headers: { range: 'bytes=-1' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe('bytes 0-0/1');
  });

  it('a JSON file sent as application/json is stored as bytes, not parsed', async () => {
    const doc = '{"not": "parsed",   "spaces": true}\n';
    const path = genericPath(project.id, 'json_app/1.0.0/data.json');
    const put = await http(s.url, { method: 'PUT', path, token: dev.token, body: doc, headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(201);
    const res = await http(s.url, { path, token: dev.token });
    expect(res.text).toBe(doc);
    expect(res.headers['content-type']).toBe('application/octet-stream');
  });

  describe('select=package_file', () => {
    it('answers 200 with the stored file record (id, package_id, file_name, size, digests)', async () => {
      const bytes = randomBytes(2048);
      const put = await http(s.url, {
        method: 'PUT',
        path: `${genericPath(project.id, 'select_app/1.0.0/sel.bin')}?select=package_file`,
        token: dev.token,
        body: bytes,
      });
      expect(put.status).toBe(200);
      const rec = put.json();
      expect(rec).toMatchObject({
        file_name: 'sel.bin',
        size: 2048,
        file_sha256: sha256(bytes),
        file_md5: md5(bytes),
        file_sha1: sha1(bytes),
      });
      expect(typeof rec.id).toBe('number');
      expect(typeof rec.package_id).toBe('number');
      const [pkg] = await listPackages(s, project.id).then((l) => l.filter((p) => p.name === 'select_app'));
      expect(pkg.id).toBe(rec.package_id);
      const files = await listFiles(s, project.id, pkg.id);
      expect(files.map((f) => [f.id, f.file_name, f.size, f.file_sha256])).toEqual([[rec.id, 'sel.bin', 2048, sha256(bytes)]]);
    });

    it('an unknown select value → 400 and nothing stored', async () => {
      const blobsBefore = await blobFiles(s);
      const res = await http(s.url, {
        method: 'PUT',
        path: `${genericPath(project.id, 'select_bad/1.0.0/x.bin')}?select=package`,
        token: dev.token,
        body: randomBytes(10),
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'select does not have a valid value' });
      expect(await blobFiles(s)).toEqual(blobsBefore);
      expect((await projectState(s, project.id)).packages.filter((p) => p.name === 'select_bad')).toEqual([]);
    });
  });

  describe('status', () => {
    it('status=hidden: downloadable, left out of the Packages API list, listed with status=hidden', async () => {
      const bytes = randomBytes(100);
      const path = genericPath(project.id, 'hidden_app/1.0.0/h.bin');
      expect((await http(s.url, { method: 'PUT', path: `${path}?status=hidden`, token: dev.token, body: bytes })).status).toBe(201);
      const res = await http(s.url, { path, token: dev.token });
      expect(res.status).toBe(200);
      expect(res.body.equals(bytes)).toBe(true);
      expect((await listPackages(s, project.id)).map((p) => p.name)).not.toContain('hidden_app');
      expect((await listPackages(s, project.id, 'hidden')).map((p) => [p.name, p.status])).toContainEqual(['hidden_app', 'hidden']);
    });

    it('a later upload with status=default makes a hidden package visible', async () => {
      const path = genericPath(project.id, 'unhide_app/1.0.0/');
      expect((await http(s.url, { method: 'PUT', path: `${path}a.bin?status=hidden`, token: dev.token, body: 'a' })).status).toBe(201);
      expect((await listPackages(s, project.id)).map((p) => p.name)).not.toContain('unhide_app');
      expect((await http(s.url, { method: 'PUT', path: `${path}b.bin?status=default`, token: dev.token, body: 'b' })).status).toBe(201);
      const listed = (await listPackages(s, project.id)).filter((p) => p.name === 'unhide_app');
      expect(listed.map((p) => p.status)).toEqual(['default']);
      expect((await listFiles(s, project.id, listed[0].id)).map((f) => f.file_name)).toEqual(['a.bin', 'b.bin']);
    });

    it('an upload without status keeps a hidden package hidden', async () => {
      const path = genericPath(project.id, 'stay_hidden/1.0.0/');
      expect((await http(s.url, { method: 'PUT', path: `${path}a.bin?status=hidden`, token: dev.token, body: 'a' })).status).toBe(201);
      expect((await http(s.url, { method: 'PUT', path: `${path}b.bin`, token: dev.token, body: 'b' })).status).toBe(201);
      expect((await listPackages(s, project.id)).map((p) => p.name)).not.toContain('stay_hidden');
      const [hidden] = (await listPackages(s, project.id, 'hidden')).filter((p) => p.name === 'stay_hidden');
      // As GitLab's API: a hidden package is listed with status=hidden, but not read by id.
      expect(
        (await s.api.inject({ url: `/api/v4/projects/${project.id}/packages/${hidden.id}/package_files`, token: s.rootToken })).status,
      ).toBe(404);
      expect((await http(s.url, { path: `${path}a.bin`, token: dev.token })).text).toBe('a');
      expect((await http(s.url, { path: `${path}b.bin`, token: dev.token })).text).toBe('b');
    });

    it('status=processing → 400 and nothing stored', async () => {
      const res = await http(s.url, {
        method: 'PUT',
        path: `${genericPath(project.id, 'proc_app/1.0.0/p.bin')}?status=processing`,
        token: dev.token,
        body: 'x',
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ error: 'status does not have a valid value' });
      expect((await projectState(s, project.id)).packages.filter((p) => p.name === 'proc_app')).toEqual([]);
    });
  });

  it('sub-directories: stored as path%2Fto%2Ffile.txt, downloaded by the slash URL, offered as the base name', async () => {
    const bytes = randomBytes(512);
    const put = await http(s.url, {
      method: 'PUT',
      path: `${genericPath(project.id, 'dir_app/1.0.0/path/to/file.txt')}?select=package_file`,
      token: dev.token,
      body: bytes,
    });
    expect(put.status).toBe(200);
    expect(put.json().file_name).toBe('path%2Fto%2Ffile.txt');
    const res = await http(s.url, { path: genericPath(project.id, 'dir_app/1.0.0/path/to/file.txt'), token: dev.token });
    expect(res.status).toBe(200);
    expect(res.body.equals(bytes)).toBe(true);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="file.txt"; filename*=UTF-8''file.txt`);
    // Same base name at another directory level is a different file.
    expect((await http(s.url, { path: genericPath(project.id, 'dir_app/1.0.0/file.txt'), token: dev.token })).status).toBe(404);
    expect((await http(s.url, { path: genericPath(project.id, 'dir_app/1.0.0/path/file.txt'), token: dev.token })).status).toBe(404);
    const [pkg] = (await listPackages(s, project.id)).filter((p) => p.name === 'dir_app');
    expect((await listFiles(s, project.id, pkg.id)).map((f) => f.file_name)).toEqual(['path%2Fto%2Ffile.txt']);
  });

  describe('special characters (+ ~ @ inside, not ~ @ at either end)', () => {
    it.each(['my+file.tar.gz', 'my~file.tar.gz', 'myfile@1.1.tar.gz'])('%s → 201 and downloadable', async (name) => {
      const bytes = randomBytes(64);
      const path = genericPath(project.id, `special/1.0.0/${name}`);
      const put = await http(s.url, { method: 'PUT', path, token: dev.token, body: bytes });
      expect(put.status).toBe(201);
      const res = await http(s.url, { path, token: dev.token });
      expect(res.status).toBe(200);
      expect(res.body.equals(bytes)).toBe(true);
    });

    it.each(['myfile1.1.tar.gz@', '@myfile1.1.tar.gz', 'myfile.tar.gz~', '~myfile.tar.gz', 'dir~/f.txt', '@dir/f.txt'])(
      '%s → 400 file_name is invalid, nothing stored',
      async (name) => {
        const res = await http(s.url, {
          method: 'PUT',
          path: genericPath(project.id, `special_bad/1.0.0/${name}`),
          token: dev.token,
          body: 'x',
        });
        expect(res.status).toBe(400);
        expect(res.json()).toEqual({ error: 'file_name is invalid' });
        expect((await projectState(s, project.id)).packages.filter((p) => p.name === 'special_bad')).toEqual([]);
      },
    );
  });

  it('addresses the project by numeric id and by URL-encoded full path, both ways round', async () => {
    const a = randomBytes(300);
    const b = randomBytes(301);
    expect(
      (await http(s.url, { method: 'PUT', path: genericPath(project.id, 'addr/1.0.0/a.bin'), token: dev.token, body: a })).status,
    ).toBe(201);
    expect(
      (await http(s.url, { method: 'PUT', path: genericPath(encodedPath(), 'addr/1.0.0/b.bin'), token: dev.token, body: b })).status,
    ).toBe(201);
    const viaPath = await http(s.url, { path: genericPath(encodedPath(), 'addr/1.0.0/a.bin'), token: dev.token });
    const viaId = await http(s.url, { path: genericPath(project.id, 'addr/1.0.0/b.bin'), token: dev.token });
    expect(viaPath.body.equals(a)).toBe(true);
    expect(viaId.body.equals(b)).toBe(true);
    expect((await listPackages(s, project.id)).filter((p) => p.name === 'addr')).toHaveLength(1);
  });

  it('equal bytes uploaded twice (other name, other version) are stored once', async () => {
    const bytes = randomBytes(10_000);
    const before = await blobFiles(s);
    expect(
      (await http(s.url, { method: 'PUT', path: genericPath(project.id, 'dedup/1.0.0/one.bin'), token: dev.token, body: bytes })).status,
    ).toBe(201);
    const afterFirst = await blobFiles(s);
    expect(afterFirst.length).toBe(before.length + 1);
    expect(
      (await http(s.url, { method: 'PUT', path: genericPath(project.id, 'dedup/2.0.0/two.bin'), token: dev.token, body: bytes })).status,
    ).toBe(201);
    expect(await blobFiles(s)).toEqual(afterFirst);
    for (const p of ['dedup/1.0.0/one.bin', 'dedup/2.0.0/two.bin']) {
      const res = await http(s.url, { path: genericPath(project.id, p), token: dev.token });
      expect(res.body.equals(bytes)).toBe(true);
    }
    // The blob sits at ab/cd/<key> under the storage dir.
    const added = afterFirst.filter((f) => !before.includes(f));
    expect(added[0]).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{2}\/[^/]+$/);
    expect(await tempFiles(s)).toEqual([]);
  });

  it('a client that aborts mid-upload leaves no blob file, no temp file and no row', async () => {
    const blobsBefore = await blobFiles(s);
    const url = new URL(s.url);
    const declared = 2 * 1024 * 1024;
    let sawTemp = false;
    const serverGotBytes = new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: genericPath(project.id, 'aborted/1.0.0/partial.bin'),
        headers: { 'private-token': dev.token, 'content-length': String(declared) },
        agent: false,
      });
      req.on('error', () => undefined);
      req.on('response', () => reject(new Error('the server answered an incomplete upload')));
      req.write(randomBytes(declared / 4), () => {
        // Give the server time to start streaming into a temp file, then vanish.
        const started = Date.now();
        const wait = async () => {
          // Object storage: the bytes stream into a multipart upload, not a temp file.
          if (objectStoreMode()) await new Promise((r) => setTimeout(r, 300));
          else
            while (!(sawTemp = (await tempFiles(s)).length > 0) && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
          req.destroy();
          resolve();
        };
        wait().catch(reject);
      });
    });
    await serverGotBytes;
    // The server was mid-write when the client vanished: there was a partial file to clean up.
    expect(sawTemp).toBe(!objectStoreMode());
    await eventually(async () => {
      expect(await tempFiles(s)).toEqual([]);
      expect(await blobFiles(s)).toEqual(blobsBefore);
    });
    expect((await projectState(s, project.id)).packages.filter((p) => p.name === 'aborted')).toEqual([]);
    expect((await http(s.url, { path: genericPath(project.id, 'aborted/1.0.0/partial.bin'), token: dev.token })).status).toBe(404);
    // The server is still fine afterwards.
    expect(
      (await http(s.url, { method: 'PUT', path: genericPath(project.id, 'aborted/1.0.0/partial.bin'), token: dev.token, body: 'whole' }))
        .status,
    ).toBe(201);
  });

  // The server runs in this process: its open files are ours in /proc/self/fd.
  const openBlobFiles = async () => {
    const fds = await readdir('/proc/self/fd');
    const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return targets.filter((t) => t.startsWith(s.storagePath));
  };

  (objectStoreMode() ? it.skip : it)('a client that goes away mid-download leaves no file open; the next download is whole', async () => {
    const body = randomBytes(32 * 1024 * 1024);
    const path = genericPath(project.id, 'abandoned/1.0.0/big.bin');
    expect((await http(s.url, { method: 'PUT', path, token: dev.token, body })).status).toBe(201);
    const url = new URL(s.url);
    const received = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path, headers: { 'private-token': dev.token }, agent: false },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            // A first megabyte, then the client vanishes with the rest unread.
            if (n >= 1024 * 1024 && !req.destroyed) {
              req.destroy();
              resolve(n);
            }
          });
          res.on('end', () => reject(new Error('the whole body arrived before the client went away')));
        },
      );
      req.on('error', () => undefined);
      req.end();
    });
    expect(received).toBeLessThan(body.length);
    await eventually(async () => expect(await openBlobFiles()).toEqual([]));
    const again = await http(s.url, { path, token: dev.token });
    expect(again.status).toBe(200);
    expect(sha256(again.body)).toBe(sha256(body));
    expect(await openBlobFiles()).toEqual([]);
  });

  it('an unknown package, version or file → 404', async () => {
    const res = await http(s.url, { path: genericPath(project.id, 'nope/1.0.0/x.bin'), token: dev.token });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ message: '404 Package Not Found' });
    const file = await http(s.url, { path: genericPath(project.id, 'addr/1.0.0/missing.bin'), token: dev.token });
    expect(file.status).toBe(404);
    expect(file.json().message).toMatch(/^404 /);
    expect((await http(s.url, { path: genericPath(project.id, 'addr/9.9.9/a.bin'), token: dev.token })).status).toBe(404);
  });
});
