import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';

import {
  buildTar,
  buildZip,
  startTestServer,
  storedBlobKeys,
  type TarInput,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
  type ZipInput,
} from '@stowage/testkit';

import { pypiFormat } from '../src';
import { tempDir } from './pypi.clients';

const run = promisify(execFile);
const B = 'stowage-test-boundary';

function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer }): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(
      Buffer.from(
        `--${B}\r\nContent-Disposition: form-data; name="content"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

describe.each(testModes())('pypi HTTP API (%s)', (mode) => {
  let s: TestServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let dev: TestUser;
  let guest: TestUser;
  let outsider: TestUser;
  let priv: TestProject;
  let pub: TestProject;
  let group: { id: number };
  const wheels: Record<string, Buffer> = {};
  const sdists: Record<string, Buffer> = {};
  let sdp: TestProject;

  /** A wheel made with the zip command: METADATA (or not), plus a module. */
  async function wheel(key: string, opts: { name?: string; version?: string; metadata?: string | Buffer | null } = {}): Promise<Buffer> {
    const name = opts.name ?? 'demo_pkg';
    const version = opts.version ?? '1.0';
    const tree = join(dir.path, key);
    await mkdir(join(tree, `${name}-${version}.dist-info`), { recursive: true });
    await writeFile(join(tree, `${name}.py`), 'X = 1\n');
    const meta =
      opts.metadata === undefined
        ? `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nRequires-Python: >=3.7\n\nbody\n`
        : opts.metadata;
    if (meta !== null) await writeFile(join(tree, `${name}-${version}.dist-info`, 'METADATA'), meta);
    await run('zip', ['-q', '-r', '-9', join(dir.path, `${key}.whl`), '.'], { cwd: tree });
    return readFile(join(dir.path, `${key}.whl`));
  }

  /** An sdist made with tar: `<name>-<version>/` holding `before` files, then PKG-INFO (unless null). */
  async function sdist(
    key: string,
    opts: { name?: string; version?: string; pkgInfo?: string | Buffer | null; before?: Record<string, Buffer> } = {},
  ): Promise<Buffer> {
    const name = opts.name ?? 'sdist_demo';
    const version = opts.version ?? '1.0';
    const top = `${name}-${version}`;
    const tree = join(dir.path, `sd-${key}`);
    await mkdir(join(tree, top), { recursive: true });
    const entries = [];
    for (const [file, bytes] of Object.entries(opts.before ?? { 'setup.py': Buffer.from('') })) {
      await writeFile(join(tree, top, file), bytes);
      entries.push(`${top}/${file}`);
    }
    const info =
      opts.pkgInfo === undefined
        ? `Metadata-Version: 2.2\nName: ${name}\nVersion: ${version}\nRequires-Python: >=3.8\nRequires-Dist: six\n\nbody\n`
        : opts.pkgInfo;
    if (info !== null) {
      await writeFile(join(tree, top, 'PKG-INFO'), info);
      entries.push(`${top}/PKG-INFO`);
    }
    await run('tar', ['-czf', join(dir.path, `${key}.tar.gz`), '-C', tree, ...entries]);
    return readFile(join(dir.path, `${key}.tar.gz`));
  }

  async function upload(
    project: number | string,
    token: string | Record<string, string>,
    fields: Record<string, string>,
    file?: { name: string; bytes: Buffer },
  ) {
    const headers: Record<string, string> = {
      'content-type': `multipart/form-data; boundary=${B}`,
      ...(typeof token === 'string' ? basic('__token__', token) : token),
    };
    return s.api.inject({ method: 'POST', url: `/api/v4/projects/${project}/packages/pypi`, headers, payload: form(fields, file) });
  }

  const good = (bytes: Buffer, extra: Record<string, string> = {}) => ({
    ':action': 'file_upload',
    name: 'demo-pkg',
    version: '1.0',
    filetype: 'bdist_wheel',
    requires_python: '>=3.7,<4',
    summary: 'A demo',
    sha256_digest: sha256(bytes),
    md5_digest: md5(bytes),
    ...extra,
  });

  beforeAll(async () => {
    dir = await tempDir('pypi-api-');
    [s] = await Promise.all([
      startTestServer({
        formats: [pypiFormat],
        mode,
        listen: true,
        config: { formats: { pypi: { max_file_size: 200_000, max_metadata_size: 64 * 1024, max_sdist_scan_size: 1 << 20 } } },
      }),
      (async () => {
        wheels.good = await wheel('good');
        wheels.v2 = await wheel('v2', { version: '2.0' });
        wheels.noMeta = await wheel('nometa', { metadata: null });
        wheels.bomb = await wheel('bomb', { metadata: Buffer.alloc(8 << 20, 0x41) });
        wheels.lying = await wheel('lying', { metadata: 'Metadata-Version: 2.1\nName: other\nVersion: 1.0\n\n' });
        sdists.old = await sdist('old', {
          name: 'Demo.Pkg',
          version: '1.0.0',
          pkgInfo: 'Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0.0\n\n',
        });
        sdists.good = await sdist('good');
        sdists.dynamic = await sdist('dynamic', {
          version: '1.1',
          pkgInfo: 'Metadata-Version: 2.2\nName: sdist_demo\nVersion: 1.1\nDynamic: Requires-Dist\n\n',
        });
        sdists.noInfo = await sdist('noinfo', { version: '2.0', pkgInfo: null });
        sdists.bigInfo = await sdist('biginfo', {
          version: '2.0',
          pkgInfo: `Metadata-Version: 2.2\nName: sdist_demo\nVersion: 2.0\n\n${'x'.repeat(100_000)}`,
        });
        // 8 MiB of zeros before PKG-INFO: an 8 KiB upload that expands past the 1 MiB scan cap.
        sdists.bomb = await sdist('bomb', { version: '2.0', before: { 'zeros.bin': Buffer.alloc(8 << 20) } });
        sdists.v3 = await sdist('v3', { version: '3.0' });
        sdists.v4 = await sdist('v4', { version: '4.0' });
        sdists.lying = await sdist('lying', { version: '2.0', pkgInfo: 'Metadata-Version: 2.2\nName: other\nVersion: 2.0\n\n' });
      })(),
    ]);
    dev = await s.api.createUser('dev');
    guest = await s.api.createUser('guest');
    outsider = await s.api.createUser('outsider');
    const g = await s.api.createGroup('grp', { visibility: 'public' }); // it holds a public project
    group = g;
    priv = await s.api.createProject('priv', { namespaceId: g.id });
    pub = await s.api.createProject('pub', { namespaceId: g.id, visibility: 'public' });
    await s.api.addMember({ project: priv.id }, dev.id, 30);
    await s.api.addMember({ project: pub.id }, dev.id, 30);
    await s.api.addMember({ project: priv.id }, guest.id, 10);
    sdp = await s.api.createProject('sdists', { namespaceId: g.id });
    await s.api.addMember({ project: sdp.id }, dev.id, 30);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await dir?.remove();
  });

  const fileCount = async (project: number) => {
    const list = await s.api.inject({ url: `/api/v4/projects/${project}/packages`, token: s.rootToken });
    return list.json<{ id: number }[]>().length;
  };

  it('uploads a wheel: 201, stored with its metadata file, listed in the index', async () => {
    const res = await upload(priv.id, dev.token, good(wheels.good), { name: 'demo_pkg-1.0-py3-none-any.whl', bytes: wheels.good });
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({ message: '201 Created' });
    const page = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`,
      headers: basic('__token__', dev.token),
    });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const url = `${s.url}/api/v4/projects/${priv.id}/packages/pypi/files/${sha256(wheels.good)}/demo_pkg-1.0-py3-none-any.whl`;
    expect(page.body).toContain(`<a href="${url}#sha256=${sha256(wheels.good)}" data-requires-python="&gt;=3.7,&lt;4"`);
    const metaSha = /data-core-metadata="sha256=([0-9a-f]{64})"/.exec(page.body)![1];
    const meta = await s.api.inject({ url: `${new URL(url).pathname}.metadata`, headers: basic('x', dev.token) });
    expect(meta.status).toBe(200);
    expect(sha256(meta.rawPayload)).toBe(metaSha);
    expect(meta.body).toContain('Name: demo_pkg');
    const file = await s.api.inject({ url: new URL(url).pathname, headers: basic('x', dev.token) });
    expect(sha256(file.rawPayload)).toBe(sha256(wheels.good));
  });

  it("gives the web UI's package page the Markdown description as README, cut at 64 KiB", async () => {
    const project = await s.api.createProject('readme-cap');
    const description = `# Demo\n\n${'*a'.repeat(50_000)}`;
    const fields = good(wheels.good, { description, description_content_type: 'text/markdown' });
    expect((await upload(project.id, s.rootToken, fields, { name: 'demo_pkg-1.0-py3-none-any.whl', bytes: wheels.good })).status).toBe(201);
    const [pkg] = (await s.api.inject({ url: `/api/v4/projects/${project.id}/packages`, token: s.rootToken })).json<{ id: number }[]>();
    const overview = await s.api.inject({ url: `/api/v4/projects/${project.id}/packages/${pkg.id}/overview`, token: s.rootToken });
    const readme = overview.json<{ readme: string }>().readme;
    expect(readme).toHaveLength(65_536);
    expect(description.startsWith(readme)).toBe(true);
  });

  it('serves PEP 691 JSON by Accept, with Vary, ETag and 304', async () => {
    const headers = { ...basic('__token__', dev.token), accept: 'application/vnd.pypi.simple.v1+json, text/html;q=0.1' };
    const page = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`, headers });
    expect(page.headers['content-type']).toBe('application/vnd.pypi.simple.v1+json');
    expect(page.headers.vary).toMatch(/Accept/);
    const json = page.json();
    expect(json.name).toBe('demo-pkg');
    expect(json.files[0]).toMatchObject({
      filename: 'demo_pkg-1.0-py3-none-any.whl',
      hashes: { sha256: sha256(wheels.good) },
      'requires-python': '>=3.7,<4',
    });
    expect(json.files[0]['core-metadata']).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`,
      headers: { ...headers, 'if-none-match': String(page.headers.etag) },
    });
    expect(again.status).toBe(304);
    const root = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/`, headers });
    expect(root.json()).toEqual({ meta: { 'api-version': '1.0' }, projects: [{ name: 'demo-pkg' }] });
    const html = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple`, headers: basic('x', dev.token) });
    expect(html.body).toContain(`<a href="${s.url}/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/">demo-pkg</a>`);
    const none = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages/pypi/simple/`,
      headers: { ...basic('x', dev.token), accept: 'application/xml' },
    });
    expect(none.status).toBe(406);
  });

  it('redirects a non-normalized name and 404s an unknown one', async () => {
    const res = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/Demo_Pkg`, headers: basic('x', dev.token) });
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`${s.url}/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`);
    const missing = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages/pypi/simple/nothing-here/`,
      headers: basic('x', dev.token),
    });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ message: '404 Package Not Found' });
  });

  it('treats 1.0 and 1.0.0 as one release and adds the sdist to it', async () => {
    const sdist = sdists.old;
    const res = await upload(
      priv.id,
      dev.token,
      { name: 'Demo.Pkg', version: '1.0.0', sha256_digest: sha256(sdist) },
      { name: 'demo_pkg-1.0.0.tar.gz', bytes: sdist },
    );
    expect(res.status).toBe(201);
    const list = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages`, token: s.rootToken });
    expect(list.json()).toHaveLength(1);
  });

  it.each([
    [
      'a sha256 mismatch',
      () => good(wheels.v2, { version: '2.0', sha256_digest: 'a'.repeat(64) }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => wheels.v2,
      /sha256_digest does not match the uploaded file/,
    ],
    [
      'an md5 mismatch',
      () => good(wheels.v2, { version: '2.0', md5_digest: 'b'.repeat(32) }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => wheels.v2,
      /md5_digest does not match/,
    ],
    [
      'a malformed sha256',
      () => good(wheels.v2, { version: '2.0', sha256_digest: `${'a'.repeat(63)}%` }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => wheels.v2,
      /sha256_digest is invalid/,
    ],
    [
      'a file name not matching the version',
      () => good(wheels.v2, { version: '3.0' }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => wheels.v2,
      /does not match name demo-pkg and version 3\.0/,
    ],
    [
      'a file name not matching the name',
      () => good(wheels.v2, { version: '2.0', name: 'other' }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => wheels.v2,
      /does not match name other/,
    ],
    [
      'a file that is neither wheel nor sdist',
      () => good(wheels.v2, { version: '2.0' }),
      'demo_pkg-2.0.exe',
      () => wheels.v2,
      /is not a wheel/,
    ],
    [
      'an invalid version',
      () => good(wheels.v2, { version: 'banana' }),
      'demo_pkg-banana-py3-none-any.whl',
      () => wheels.v2,
      /Version is invalid/,
    ],
    ['an invalid name', () => good(wheels.v2, { name: '.$/@!^*' }), 'demo_pkg-2.0-py3-none-any.whl', () => wheels.v2, /Name is invalid/],
    [
      'a wheel that is not a zip',
      () => good(Buffer.from('plain text'), { version: '2.0' }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => Buffer.from('plain text'),
      /Invalid wheel: not a zip file/,
    ],
    [
      'a wheel without METADATA',
      () => good(wheels.noMeta, { version: '1.0' }),
      'demo_pkg-1.0-py2-none-any.whl',
      () => wheels.noMeta,
      /Invalid wheel: no demo_pkg-1\.0\.dist-info\/METADATA/,
    ],
    [
      'a zip-bomb METADATA',
      () => good(wheels.bomb, { version: '1.0' }),
      'demo_pkg-1.0-py2-none-any.whl',
      () => wheels.bomb,
      /Invalid wheel: .*METADATA is larger than 65536 bytes/,
    ],
    [
      'METADATA naming another project',
      () => good(wheels.lying, { version: '1.0' }),
      'demo_pkg-1.0-py2-none-any.whl',
      () => wheels.lying,
      /METADATA names other 1\.0/,
    ],
    [
      'a duplicate file name',
      () => good(wheels.good),
      'demo_pkg-1.0-py3-none-any.whl',
      () => wheels.good,
      /File name has already been taken/,
    ],
    [
      'an oversize file',
      () => ({ name: 'demo-pkg', version: '2.0' }),
      'demo_pkg-2.0-py3-none-any.whl',
      () => Buffer.alloc(300_000, 1),
      /File is too large/,
    ],
  ])('refuses %s with a 400 twine can show, storing nothing', async (_what, fields, fileName, bytes, message) => {
    const before = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`,
      headers: basic('x', dev.token),
    });
    const res = await upload(priv.id, dev.token, fields(), { name: fileName, bytes: bytes() });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(message);
    const after = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`, headers: basic('x', dev.token) });
    expect(after.body).toBe(before.body);
    expect(await fileCount(priv.id)).toBe(1);
  });

  it('puts the message in the reason phrase twine prints', async () => {
    const res = await fetch(`${s.url}/api/v4/projects/${priv.id}/packages/pypi`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${B}`, ...basic('__token__', dev.token) },
      body: form(good(wheels.good), { name: 'demo_pkg-1.0-py3-none-any.whl', bytes: wheels.good }),
    });
    expect(res.status).toBe(400);
    expect(res.statusText).toBe('Bad request - Validation failed: File name has already been taken (File already exists)');
  });

  it('refuses malformed multipart bodies', async () => {
    const headers = { ...basic('__token__', dev.token), 'content-type': 'multipart/form-data' };
    const noBoundary = await s.api.inject({ method: 'POST', url: `/api/v4/projects/${priv.id}/packages/pypi`, headers, payload: 'x' });
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body).toMatch(/Invalid multipart body: multipart\/form-data without a boundary/);
    const truncated = await s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${priv.id}/packages/pypi`,
      headers: { ...headers, 'content-type': `multipart/form-data; boundary=${B}` },
      payload: form({ name: 'demo-pkg', version: '9.0' }, { name: 'demo_pkg-9.0.tar.gz', bytes: Buffer.alloc(1000) }).subarray(0, 500),
    });
    expect(truncated.status).toBe(400);
    expect(truncated.body).toMatch(/unexpected end of multipart body/);
    const noFile = await upload(priv.id, dev.token, { name: 'demo-pkg', version: '9.0' });
    expect(noFile.status).toBe(400);
    expect(noFile.json()).toEqual({ error: 'content is missing' });
    expect(await fileCount(priv.id)).toBe(1);
  });

  describe('auth matrix', () => {
    const page = () => `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`;
    const fileUrl = () => `/api/v4/projects/${priv.id}/packages/pypi/files/${sha256(wheels.good)}/demo_pkg-1.0-py3-none-any.whl`;

    it('private project: anonymous and wrong token 401 with a Basic challenge; guest 403 page, 200 file; outsider 404', async () => {
      for (const headers of [{}, basic('__token__', 'wrong-token')]) {
        const res = await s.api.inject({ url: page(), headers });
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
        expect((await s.api.inject({ url: fileUrl(), headers })).status).toBe(401);
      }
      expect((await s.api.inject({ url: page(), headers: basic('guest', guest.token) })).status).toBe(403);
      expect((await s.api.inject({ url: fileUrl(), headers: basic('guest', guest.token) })).status).toBe(200);
      expect((await s.api.inject({ url: page(), headers: basic('x', outsider.token) })).status).toBe(404);
      expect((await s.api.inject({ url: fileUrl(), headers: basic('x', outsider.token) })).status).toBe(404);
    });

    it('upload: anonymous 401, guest 403, outsider 404 on private, 403 on public; deploy tokens by scope', async () => {
      const f = () => ({ name: 'demo_pkg-5.0-py3-none-any.whl', bytes: wheels.v2 });
      const fields = { name: 'demo-pkg', version: '5.0' };
      expect((await upload(priv.id, {}, fields, f())).status).toBe(401);
      expect((await upload(priv.id, 'wrong', fields, f())).status).toBe(401);
      expect((await upload(priv.id, guest.token, fields, f())).status).toBe(403);
      expect((await upload(priv.id, outsider.token, fields, f())).status).toBe(404);
      expect((await upload(pub.id, outsider.token, fields, f())).status).toBe(403);
      const readOnly = await s.api.createDeployToken({ project: priv.id }, ['read_package_registry']);
      expect((await upload(priv.id, basic(readOnly.username, readOnly.token), fields, f())).status).toBe(403);
      expect((await s.api.inject({ url: page(), headers: basic(readOnly.username, readOnly.token) })).status).toBe(200);
      expect(await fileCount(priv.id)).toBe(1);
    });

    it('public project: anyone reads, a wrong Basic password falls back to anonymous', async () => {
      const up = await upload(pub.id, dev.token, good(wheels.good), { name: 'demo_pkg-1.0-py3-none-any.whl', bytes: wheels.good });
      expect(up.status).toBe(201);
      const url = `/api/v4/projects/${pub.id}/packages/pypi/simple/demo-pkg/`;
      expect((await s.api.inject({ url })).status).toBe(200);
      expect((await s.api.inject({ url, headers: basic('__token__', 'wrong') })).status).toBe(200);
    });

    it('group index lists only projects the caller may read', async () => {
      const url = `/api/v4/groups/${group.id}/-/packages/pypi/simple/demo-pkg/`;
      const asDev = await s.api.inject({ url, headers: basic('x', dev.token) });
      expect(asDev.status).toBe(200);
      expect(asDev.body).toContain(`${s.url}/api/v4/groups/${group.id}/-/packages/pypi/files/`);
      expect((asDev.body.match(/<a /g) ?? []).length).toBe(3);
      const asOutsider = await s.api.inject({ url, headers: basic('x', outsider.token) });
      // The outsider sees the (public) group but only the public project's file.
      expect(asOutsider.status).toBe(200);
      expect((asOutsider.body.match(/<a /g) ?? []).length).toBe(1);
      const root = await s.api.inject({ url: `/api/v4/groups/${group.id}/-/packages/pypi/simple/`, headers: basic('x', outsider.token) });
      expect(root.body).toContain('>demo-pkg</a>');
      const groupFile = await s.api.inject({
        url: `/api/v4/groups/${group.id}/-/packages/pypi/files/${sha256(wheels.good)}/demo_pkg-1.0-py3-none-any.whl`,
        headers: basic('x', outsider.token),
      });
      expect(groupFile.status).toBe(200);
      const hidden = await s.api.inject({
        url: `/api/v4/groups/${group.id}/-/packages/pypi/files/${sha256(sdists.old)}/demo_pkg-1.0.0.tar.gz`,
        headers: basic('x', outsider.token),
      });
      expect(hidden.status).toBe(404);
    });
  });

  describe('sdists: PKG-INFO as PEP 658 metadata', () => {
    const page = () => `/api/v4/projects/${sdp.id}/packages/pypi/simple/sdist-demo/`;
    const as = () => basic('x', dev.token);
    const sdistFields = (bytes: Buffer, version: string) => ({
      name: 'sdist-demo',
      version,
      requires_python: '>=3.8',
      summary: 'An sdist',
      description: 'Long *text*',
      description_content_type: 'text/markdown',
      sha256_digest: sha256(bytes),
    });
    const count = async () =>
      (await s.api.inject({ url: `/api/v4/projects/${sdp.id}/packages`, token: s.rootToken })).json<unknown[]>().length;

    it('extracts PKG-INFO at upload, advertises it in HTML and JSON and serves it at <file>.metadata', async () => {
      const res = await upload(sdp.id, dev.token, sdistFields(sdists.good, '1.0'), { name: 'sdist_demo-1.0.tar.gz', bytes: sdists.good });
      expect(res.status).toBe(201);
      const html = await s.api.inject({ url: page(), headers: as() });
      const anchor = /<a [^>]*>sdist_demo-1\.0\.tar\.gz<\/a>/.exec(html.body)![0];
      const metaSha = /data-core-metadata="sha256=([0-9a-f]{64})"/.exec(anchor)![1];
      expect(anchor).toContain(`data-dist-info-metadata="sha256=${metaSha}"`);
      const json = await s.api.inject({ url: page(), headers: { ...as(), accept: 'application/vnd.pypi.simple.v1+json' } });
      expect(json.json().files[0]['core-metadata']).toEqual({ sha256: metaSha });
      const meta = await s.api.inject({
        url: `/api/v4/projects/${sdp.id}/packages/pypi/files/${sha256(sdists.good)}/sdist_demo-1.0.tar.gz.metadata`,
        headers: as(),
      });
      expect(meta.status).toBe(200);
      expect(sha256(meta.rawPayload)).toBe(metaSha);
      expect(meta.body).toMatch(/^Metadata-Version: 2\.2\nName: sdist_demo\nVersion: 1\.0\n.*Requires-Dist: six\n/s);
    });

    it('serves the index gzipped to clients that accept it, under its own ETag', async () => {
      const plain = await s.api.inject({ url: page(), headers: as() });
      const gz = await s.api.inject({ url: page(), headers: { ...as(), 'accept-encoding': 'gzip, deflate' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gz.headers.vary).toMatch(/Accept-Encoding/);
      expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
      expect(gz.headers.etag).not.toBe(plain.headers.etag);
      const refused = await s.api.inject({ url: page(), headers: { ...as(), 'accept-encoding': 'gzip;q=0, br' } });
      expect(refused.headers['content-encoding']).toBe('br');
      const none = await s.api.inject({ url: page(), headers: { ...as(), 'accept-encoding': 'gzip;q=0' } });
      expect(none.headers['content-encoding']).toBeUndefined();
      const again = await s.api.inject({
        url: page(),
        headers: { ...as(), 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) },
      });
      expect(again.status).toBe(304);
    });

    it('stores but does not advertise PKG-INFO that PEP 643 does not vouch for (before 2.2, or dynamic Requires-Dist)', async () => {
      const res = await upload(sdp.id, dev.token, sdistFields(sdists.dynamic, '1.1'), {
        name: 'sdist_demo-1.1.tar.gz',
        bytes: sdists.dynamic,
      });
      expect(res.status).toBe(201);
      const html = await s.api.inject({ url: page(), headers: as() });
      expect(/<a [^>]*>sdist_demo-1\.1\.tar\.gz<\/a>/.exec(html.body)![0]).not.toContain('core-metadata');
      const meta = await s.api.inject({
        url: `/api/v4/projects/${sdp.id}/packages/pypi/files/${sha256(sdists.dynamic)}/sdist_demo-1.1.tar.gz.metadata`,
        headers: as(),
      });
      expect(meta.status).toBe(404);
      const old = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`, headers: as() });
      expect(/<a [^>]*>demo_pkg-1\.0\.0\.tar\.gz<\/a>/.exec(old.body)![0]).not.toContain('core-metadata');
    });

    it.each([
      ['a corrupt .tar.gz', () => Buffer.from('plain text, not gzip'), /Invalid sdist: not a gzipped tar archive/],
      ['gzip that is not a tar', () => gzipSync(Buffer.alloc(4096, 7)), /Invalid sdist: not a tar archive \(bad header checksum\)/],
      ['an sdist without PKG-INFO', () => sdists.noInfo, /Invalid sdist: no <name>-<version>\/PKG-INFO in the archive/],
      ['an oversize PKG-INFO', () => sdists.bigInfo, /Invalid sdist: sdist_demo-2\.0\/PKG-INFO is larger than 65536 bytes/],
      ['a tar bomb ahead of PKG-INFO', () => sdists.bomb, /Invalid sdist: the archive expands beyond 1048576 bytes/],
      ['PKG-INFO naming another project', () => sdists.lying, /Invalid sdist: PKG-INFO names other 2\.0, not sdist-demo 2\.0/],
    ])('refuses %s with a 400, storing nothing', async (_what, bytes, message) => {
      const before = await s.api.inject({ url: page(), headers: as() });
      const packagesBefore = await count();
      const res = await upload(sdp.id, dev.token, sdistFields(bytes(), '2.0'), { name: 'sdist_demo-2.0.tar.gz', bytes: bytes() });
      expect(res.status).toBe(400);
      expect(res.body).toMatch(message);
      expect((await s.api.inject({ url: page(), headers: as() })).body).toBe(before.body);
      expect(await count()).toBe(packagesBefore);
    });

    it("shows the upload form's summary, description and requires-python in the Packages API", async () => {
      const list = await s.api.inject({ url: `/api/v4/projects/${sdp.id}/packages?package_version=1.0`, token: dev.token });
      const id = list.json<{ id: number }[]>()[0].id;
      const show = await s.api.inject({ url: `/api/v4/projects/${sdp.id}/packages/${id}`, token: dev.token });
      expect(show.status).toBe(200);
      expect(show.json()).toMatchObject({ id, name: 'sdist-demo', version: '1.0', package_type: 'pypi' });
      expect(show.json().pypi_metadata).toEqual({
        required_python: '>=3.8',
        summary: 'An sdist',
        keywords: null,
        author_email: null,
        description: 'Long *text*',
        description_content_type: 'text/markdown',
        metadata_version: null,
      });
    });
  });

  describe('archives pip could not unpack safely', () => {
    let evil: TestProject;
    const meta = 'Metadata-Version: 2.2\nName: evil-pkg\nVersion: 1.0\n\n';
    const wheelWith = (entry: ZipInput) =>
      buildZip([{ name: 'evil_pkg-1.0.dist-info/METADATA', data: meta }, { name: 'evil_pkg/__init__.py', data: '' }, entry]);
    const sdistWith = (entry: TarInput) =>
      buildTar([{ name: 'evil_pkg-1.0/PKG-INFO', data: meta }, { name: 'evil_pkg-1.0/setup.py', data: '' }, entry]);
    const refused = async (fileName: string, bytes: Buffer, message: string) => {
      const blobsBefore = await storedBlobKeys(s);
      const fields = { name: 'evil-pkg', version: '1.0', sha256_digest: sha256(bytes) };
      const res = await upload(evil.id, dev.token, fields, { name: fileName, bytes });
      expect([res.status, res.json().message]).toEqual([400, `400 Bad request - ${message}`]);
      expect((await s.api.inject({ url: `/api/v4/projects/${evil.id}/packages`, token: s.rootToken })).json()).toEqual([]);
      expect(await storedBlobKeys(s)).toEqual(blobsBefore);
    };

    beforeAll(async () => {
      evil = await s.api.createProject('evil', { namespaceId: group.id });
      await s.api.addMember({ project: evil.id }, dev.id, 30);
    });

    it.each<[string, ZipInput, string]>([
      [
        'a ".." path',
        { name: '../../.bashrc', data: 'x' },
        'the archive entry "../../.bashrc" points outside the package directory (a ".." segment)',
      ],
      [
        'an absolute path',
        { name: '/etc/x', data: 'x' },
        'the archive entry "/etc/x" points outside the package directory (an absolute path)',
      ],
      ['a drive path', { name: 'C:/x', data: 'x' }, 'the archive entry "C:/x" points outside the package directory (a drive path)'],
      [
        'a backslash path',
        { name: 'evil_pkg\\..\\..\\x', data: 'x' },
        'the archive entry "evil_pkg\\\\..\\\\..\\\\x" has a backslash in its name',
      ],
      [
        'a symlink',
        { name: 'evil_pkg/link.py', data: '/etc/passwd', mode: 0o120777 },
        'the archive entry "evil_pkg/link.py" is a symbolic link',
      ],
      [
        'a second METADATA',
        { name: 'evil_pkg-1.0.dist-info/METADATA', data: 'Metadata-Version: 2.2\nName: evil-pkg\nVersion: 1.0\nRequires-Dist: evil\n\n' },
        'the archive holds "evil_pkg-1.0.dist-info/METADATA" more than once',
      ],
    ])('refuses a wheel with %s, naming the entry, storing nothing', async (_, entry, problem) => {
      await refused('evil_pkg-1.0-py3-none-any.whl', wheelWith(entry), `Invalid wheel: ${problem}`);
    });

    it.each<[string, TarInput, string]>([
      [
        'a ".." path',
        { name: 'evil_pkg-1.0/../../x', data: 'x' },
        'the archive entry "evil_pkg-1.0/../../x" points outside the package directory (a ".." segment)',
      ],
      [
        'an absolute path',
        { name: '/etc/x', data: 'x' },
        'the archive entry "/etc/x" points outside the package directory (an absolute path)',
      ],
      ['a drive path', { name: 'C:\\x', data: 'x' }, 'the archive entry "C:\\\\x" has a backslash in its name'],
      ['a symlink', { name: 'evil_pkg-1.0/link', type: '2', link: '/etc' }, 'the archive entry "evil_pkg-1.0/link" is a symbolic link'],
      [
        'a hard link',
        { name: 'evil_pkg-1.0/link', type: '1', link: '/etc/passwd' },
        'the archive entry "evil_pkg-1.0/link" is a hard link',
      ],
      [
        'a ".." path in a pax header',
        { name: 'evil_pkg-1.0/ok', paxPath: '../x', data: 'x' },
        'the archive entry "../x" points outside the package directory (a ".." segment)',
      ],
    ])('refuses a .tar.gz sdist with %s, naming the entry, storing nothing', async (_, entry, problem) => {
      await refused('evil_pkg-1.0.tar.gz', sdistWith(entry), `Invalid sdist: ${problem}`);
    });

    it('refuses a duplicate before reading its archive, also when the form fields come after the file', async () => {
      const sdist = sdistWith({ name: 'evil_pkg-1.0/README', data: 'ok' });
      const first = await upload(evil.id, dev.token, { name: 'evil-pkg', version: '1.0' }, { name: 'evil_pkg-1.0.tar.gz', bytes: sdist });
      expect(first.status).toBe(201);
      const blobsBefore = await storedBlobKeys(s);
      // The same file name again, a tar bomb this time, its fields after the file (read only once it is stored).
      const bomb = gzipSync(
        buildTar(
          [
            { name: 'evil_pkg-1.0/zeros', data: Buffer.alloc(4 << 20) },
            { name: 'evil_pkg-1.0/PKG-INFO', data: meta },
          ],
          { gzip: false },
        ),
      );
      const body = Buffer.concat([
        Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="content"; filename="evil_pkg-1.0.tar.gz"\r\n\r\n`),
        bomb,
        Buffer.from(
          `\r\n--${B}\r\nContent-Disposition: form-data; name="name"\r\n\r\nevil-pkg\r\n--${B}\r\nContent-Disposition: form-data; name="version"\r\n\r\n1.0\r\n--${B}--\r\n`,
        ),
      ]);
      const res = await s.api.inject({
        method: 'POST',
        url: `/api/v4/projects/${evil.id}/packages/pypi`,
        headers: { 'content-type': `multipart/form-data; boundary=${B}`, ...basic('__token__', dev.token) },
        payload: body,
      });
      expect([res.status, res.json().message]).toEqual([
        400,
        '400 Bad request - Validation failed: File name has already been taken (File already exists)',
      ]);
      expect(await storedBlobKeys(s)).toEqual(blobsBefore);
      const list = (await s.api.inject({ url: `/api/v4/projects/${evil.id}/packages`, token: s.rootToken })).json<{ id: number }[]>();
      expect(
        (await s.api.inject({ method: 'DELETE', url: `/api/v4/projects/${evil.id}/packages/${list[0].id}`, token: s.rootToken })).status,
      ).toBe(204);
    });

    it('refuses a .zip sdist with a path outside, a .tar.bz2 sdist, and a tar bomb behind PKG-INFO', async () => {
      const zip = buildZip([
        { name: 'evil_pkg-1.0/PKG-INFO', data: meta },
        { name: 'evil_pkg-1.0/../../x', data: 'x' },
      ]);
      await refused(
        'evil_pkg-1.0.zip',
        zip,
        'Invalid sdist: the archive entry "evil_pkg-1.0/../../x" points outside the package directory (a ".." segment)',
      );
      await refused(
        'evil_pkg-1.0.tar.bz2',
        Buffer.from('BZh91AY&SY'),
        'Invalid sdist: .tar.bz2 sdists are not accepted (their entries cannot be checked); upload a .tar.gz',
      );
      const behind = gzipSync(
        Buffer.concat([
          buildTar(
            [
              { name: 'evil_pkg-1.0/PKG-INFO', data: meta },
              { name: 'evil_pkg-1.0/zeros', data: Buffer.alloc(4 << 20) },
            ],
            { gzip: false },
          ),
        ]),
      );
      await refused('evil_pkg-1.0.tar.gz', behind, 'Invalid sdist: the archive expands beyond 1048576 bytes');
    });
  });

  describe('job tokens and group deploy tokens', () => {
    const page = () => `/api/v4/projects/${sdp.id}/packages/pypi/simple/sdist-demo/`;
    const fileUrl = (bytes: Buffer, name: string) => `/api/v4/projects/${sdp.id}/packages/pypi/files/${sha256(bytes)}/${name}`;

    it('a job token as Basic gitlab-ci-token uploads and reads; a wrong one is refused', async () => {
      const minted = await s.api.inject({ method: 'POST', url: `/api/v4/projects/${sdp.id}/job_tokens`, token: dev.token, payload: {} });
      expect(minted.status).toBe(201);
      const job = basic('gitlab-ci-token', minted.json().token);
      const up = await upload(
        sdp.id,
        job,
        { name: 'sdist-demo', version: '3.0', sha256_digest: sha256(sdists.v3) },
        { name: 'sdist_demo-3.0.tar.gz', bytes: sdists.v3 },
      );
      expect(up.status).toBe(201);
      const listing = await s.api.inject({ url: page(), headers: job });
      expect(listing.status).toBe(200);
      expect(listing.body).toContain('>sdist_demo-3.0.tar.gz</a>');
      expect((await s.api.inject({ url: fileUrl(sdists.v3, 'sdist_demo-3.0.tar.gz'), headers: job })).status).toBe(200);
      const wrong = basic('gitlab-ci-token', 'not-a-job-token');
      expect((await s.api.inject({ url: page(), headers: wrong })).status).toBe(401);
      expect(
        (await upload(sdp.id, wrong, { name: 'sdist-demo', version: '3.0' }, { name: 'sdist_demo-3.0.tar.gz', bytes: sdists.v3 })).status,
      ).toBe(401);
      // A job token acts within its own project only.
      expect((await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/pypi/simple/demo-pkg/`, headers: job })).status).toBe(404);
    });

    it('a group deploy token reads every project of the group; only a write one uploads', async () => {
      const read = await s.api.createDeployToken({ group: group.id }, ['read_package_registry']);
      const reader = basic(read.username, read.token);
      const root = await s.api.inject({ url: `/api/v4/groups/${group.id}/-/packages/pypi/simple/`, headers: reader });
      expect(root.status).toBe(200);
      expect(root.body).toContain('>sdist-demo</a>');
      expect(root.body).toContain('>demo-pkg</a>');
      // The private project's files too (an outsider sees only the public one's).
      const groupPage = await s.api.inject({ url: `/api/v4/groups/${group.id}/-/packages/pypi/simple/demo-pkg/`, headers: reader });
      expect((groupPage.body.match(/<a /g) ?? []).length).toBe(3);
      expect((await s.api.inject({ url: page(), headers: reader })).status).toBe(200);
      expect((await s.api.inject({ url: fileUrl(sdists.good, 'sdist_demo-1.0.tar.gz'), headers: reader })).status).toBe(200);
      const v4 = { name: 'sdist_demo-4.0.tar.gz', bytes: sdists.v4 };
      expect((await upload(sdp.id, reader, { name: 'sdist-demo', version: '4.0' }, v4)).status).toBe(403);
      const write = await s.api.createDeployToken({ group: group.id }, ['read_package_registry', 'write_package_registry']);
      expect((await upload(sdp.id, basic(write.username, write.token), { name: 'sdist-demo', version: '4.0' }, v4)).status).toBe(201);
      expect((await s.api.inject({ url: page(), headers: basic('x', 'wrong') })).status).toBe(401);
    });
  });
});
