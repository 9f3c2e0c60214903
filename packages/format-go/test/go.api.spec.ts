import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';

import {
  aliasZipEntry,
  buildZip,
  filesUnder,
  startTestServer,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { goFormat } from '../src';
import { escapeCase } from '../src/go.naming';
import { moduleZip } from './go.fixtures';

// The GOPROXY endpoints and the upload at the HTTP level, in both database modes: auth,
// case encoding, version rules and every refused zip (each leaving nothing stored).

const MAX = 64 * 1024;

const goMod = (module: string) => `module ${module}\n\ngo 1.19\n`;
const files = (module: string, extra: Record<string, string> = {}) => ({ 'go.mod': goMod(module), 'a.go': 'package a\n', ...extra });

/** A PUT over real HTTP with a chunked body; the server may answer and close before it is all sent. */
function chunkedPut(url: string, token: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'private-token': token, 'content-type': 'application/zip' } }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (body += c))
        .on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    (async () => {
      for (const c of chunks) {
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

describe.each(testModes())('go proxy API (%s)', (mode) => {
  let s: TestServer;
  let owner: TestUser;
  let reporter: TestUser;
  let outsider: TestUser;
  let priv: TestProject;
  let pub: TestProject;

  const base = (p: TestProject | number) => `/api/v4/projects/${typeof p === 'number' ? p : p.id}/packages/go`;
  const zipUrl = (p: TestProject, module: string, version: string) => `${base(p)}/${escapeCase(module)}/@v/${escapeCase(version)}.zip`;
  const put = (module: string, version: string, body: Buffer, opts: { token?: string; project?: TestProject } = {}) =>
    s.api.inject({
      method: 'PUT',
      url: zipUrl(opts.project ?? priv, module, version),
      payload: body,
      headers: { 'content-type': 'application/zip' },
      token: opts.token ?? ('token' in opts ? undefined : owner.token),
    });
  const get = (path: string, token: string | null = reporter.token, project: TestProject = priv) =>
    s.api.inject({ url: `${base(project)}/${path}`, token: token ?? undefined });
  const storedFiles = () => filesUnder(join(s.dataDir, 'packages'));

  beforeAll(async () => {
    s = await startTestServer({ formats: [goFormat], mode, listen: true, config: { formats: { go: { max_file_size: MAX } } } });
    [owner, reporter, outsider] = await Promise.all([
      s.api.createUser('owner'),
      s.api.createUser('reporter'),
      s.api.createUser('outsider'),
    ]);
    priv = await s.api.createProject('priv');
    pub = await s.api.createProject('pub', { visibility: 'public' });
    for (const p of [priv, pub]) {
      await s.api.addMember({ project: p.id }, owner.id, 40);
      await s.api.addMember({ project: p.id }, reporter.id, 20);
    }
  });
  afterAll(() => s?.close());

  it('publishes a version and serves list, info, mod, zip and @latest, with case encoding', async () => {
    const module = 'example.com/Org/greet';
    const zip = moduleZip(module, 'v1.0.0', files(module));
    const res = await put(module, 'v1.0.0', zip);
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ module, version: 'v1.0.0' });

    const list = await get('example.com/!org/greet/@v/list');
    expect([list.status, list.body, list.headers['content-type']]).toEqual([200, 'v1.0.0\n', 'text/plain; charset=utf-8']);
    const info = await get('example.com/!org/greet/@v/v1.0.0.info');
    expect(info.status).toBe(200);
    expect(info.json().Version).toBe('v1.0.0');
    expect(Math.abs(Date.parse(info.json().Time) - Date.now())).toBeLessThan(60_000);
    expect((await get('example.com/!org/greet/@latest')).json().Version).toBe('v1.0.0');
    const mod = await get('example.com/!org/greet/@v/v1.0.0.mod');
    expect([mod.status, mod.body]).toEqual([200, goMod(module)]);
    const dl = await get('example.com/!org/greet/@v/v1.0.0.zip');
    expect(dl.status).toBe(200);
    expect(dl.headers['content-type']).toBe('application/zip');
    expect(dl.rawPayload.equals(zip)).toBe(true);

    // Paths are case-sensitive: the lower-case spelling is another module, raw upper case is malformed.
    expect((await get('example.com/org/greet/@v/list')).status).toBe(404);
    expect((await get('example.com/Org/greet/@v/list')).status).toBe(404);
  });

  it('shows a published module in the Packages API as GitLab’s golang type, and filters by it', async () => {
    const module = 'example.com/listed';
    expect((await put(module, 'v0.1.0', moduleZip(module, 'v0.1.0', files(module)))).status).toBe(201);
    const list = await s.api.inject({
      url: `/api/v4/projects/${priv.id}/packages?package_type=golang&package_name=listed`,
      token: reporter.token,
    });
    expect(list.status).toBe(200);
    expect(list.json()).toEqual([expect.objectContaining({ name: module, version: 'v0.1.0', package_type: 'golang' })]);
    const one = await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages/${list.json()[0].id}`, token: reporter.token });
    expect(one.json()).toMatchObject({ name: module, package_type: 'golang' });
  });

  it('lists tagged versions in semver order without pseudo-versions; @latest prefers releases', async () => {
    const module = 'example.com/versions';
    const versions = ['v1.2.0', 'v1.10.0', 'v1.0.0', 'v1.11.0-rc.1', 'v1.10.1-0.20240101000000-abcdefabcdef', 'v1.0.1-Pre'];
    for (const v of versions) expect((await put(module, v, moduleZip(module, v, files(module)))).status).toBe(201);
    const list = await get('example.com/versions/@v/list');
    expect(list.body).toBe('v1.0.0\nv1.0.1-Pre\nv1.2.0\nv1.10.0\nv1.11.0-rc.1\n');
    expect((await get('example.com/versions/@latest')).json().Version).toBe('v1.10.0');
    // A pseudo-version is served when asked for, and an upper-case pre-release by its encoding.
    expect((await get('example.com/versions/@v/v1.10.1-0.20240101000000-abcdefabcdef.info')).status).toBe(200);
    expect((await get('example.com/versions/@v/v1.0.1-!pre.info')).json().Version).toBe('v1.0.1-Pre');
    expect((await get('example.com/versions/@v/v1.0.1-pre.info')).status).toBe(404);

    const pre = 'example.com/prerelease-only';
    for (const v of ['v0.1.0-beta.2', 'v0.1.0-beta.10', 'v0.1.0-alpha'])
      expect((await put(pre, v, moduleZip(pre, v, files(pre)))).status).toBe(201);
    expect((await get(`${pre}/@latest`)).json().Version).toBe('v0.1.0-beta.10');
  });

  it('accepts modules in subdirectories, /vN majors and +incompatible versions without go.mod', async () => {
    const sub = 'example.com/repo/sub';
    expect((await put(sub, 'v0.3.0', moduleZip(sub, 'v0.3.0', files(sub)))).status).toBe(201);
    const v2 = 'example.com/repo/v2';
    expect((await put(v2, 'v2.1.0', moduleZip(v2, 'v2.1.0', files(v2)))).status).toBe(201);
    expect((await get('example.com/repo/v2/@v/list')).body).toBe('v2.1.0\n');
    expect((await get('example.com/repo/@v/list')).status).toBe(404);

    const old = 'example.com/old';
    expect((await put(old, 'v3.0.0+incompatible', moduleZip(old, 'v3.0.0+incompatible', { 'old.go': 'package old\n' }))).status).toBe(201);
    expect((await get('example.com/old/@v/v3.0.0+incompatible.mod')).body).toBe('module example.com/old\n');
  });

  it.each([
    ['example.com/m', 'v1.0', /not canonical \(want v1\.0\.0\)/],
    ['example.com/m', '1.0.0', /not a semantic version/],
    ['example.com/m', 'v01.0.0', /not a semantic version/],
    ['example.com/m', 'v1.0.0+build.5', /not canonical/],
    ['example.com/m', 'latest', /not a semantic version/],
    ['example.com/m', 'v2.0.0', /should be v0 or v1, not v2/],
    ['example.com/m/v2', 'v1.0.0', /should be v2, not v1/],
    ['example.com/m/v2', 'v2.0.0+incompatible', /\+incompatible suffix not allowed/],
    ['example.com/m', 'v1.0.0+incompatible', /major version v1 is compatible/],
    ['example.com/m/v1', 'v1.0.0', /invalid major version suffix/],
    ['nodot/m', 'v1.0.0', /missing dot/],
  ])('refuses %s@%s before reading the zip', async (module, version, message) => {
    const before = await storedFiles();
    const res = await put(module, version, moduleZip(module, version, files(module)));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toMatch(message);
    expect(await storedFiles()).toEqual(before);
  });

  const M = 'example.com/bad';
  const P = `${M}@v1.0.0/`;
  const ok = { name: `${P}go.mod`, data: goMod(M) };
  it.each([
    [
      'a file outside the module prefix',
      [ok, { name: 'example.com/bad@v1.0.1/a.go', data: 'x' }],
      /does not have prefix "example\.com\/bad@v1\.0\.0\/"/,
    ],
    ['a zip for another version', [{ name: 'example.com/bad@v1.0.1/go.mod', data: goMod(M) }], /does not have prefix/],
    ['a .. path', [ok, { name: `${P}../evil.go`, data: 'x' }], /malformed file path/],
    ['an absolute path', [ok, { name: `${P}/etc/passwd`, data: 'x' }], /malformed file path/],
    ['a go.mod for another module', [{ name: `${P}go.mod`, data: goMod('example.com/other') }], /declares module "example\.com\/other"/],
    ['no go.mod', [{ name: `${P}a.go`, data: 'package a\n' }], /go\.mod is missing/],
    ['a nested go.mod', [ok, { name: `${P}vendor/x/go.mod`, data: goMod('x.org/x') }], /go\.mod file not in module root/],
    ['a GO.MOD', [ok, { name: `${P}GO.MOD`, data: goMod(M) }], /case-insensitive file name collision|spelled exactly/],
    [
      'a case-fold collision',
      [ok, { name: `${P}Readme.md`, data: 'a' }, { name: `${P}README.md`, data: 'b' }],
      /case-insensitive file name collision/,
    ],
    ['a symlink', [ok, { name: `${P}link`, data: '/etc/passwd', mode: 0o120777 }], /symlinks/],
    ['a backslash path', [ok, { name: `${P}a\\..\\..\\x.go`, data: 'x' }], /malformed file path .*invalid char "\\\\"/],
    ['a drive path', [ok, { name: `${P}C:/x.go`, data: 'x' }], /malformed file path .*invalid char ":"/],
    ['a special file', [ok, { name: `${P}fifo`, mode: 0o010644 }], /irregular files/],
    ['a duplicate entry', [ok, { name: `${P}go.mod`, data: goMod(M) }], /multiple entries/],
    ['a lying size', [ok, { name: `${P}a.go`, data: 'package a\n', declaredSize: 3 }], /larger than its declared size/],
    ['a Windows-reserved name', [ok, { name: `${P}aux.go`, data: 'x' }], /disallowed as path element/],
  ] as const)('refuses a zip with %s', async (_what, entries, message) => {
    const before = await storedFiles();
    const res = await put(M, 'v1.0.0', buildZip(entries.map((e) => ({ ...e }))));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toMatch(message);
    expect(await storedFiles()).toEqual(before);
    expect((await get('example.com/bad/@v/list')).status).toBe(404);
  });

  it('refuses a zip whose entries share one deflated stream, before inflating any', async () => {
    const before = await storedFiles();
    const one = buildZip([ok, { name: `${P}zeros.txt`, data: Buffer.alloc(32 << 20) }]);
    const res = await put(
      M,
      'v1.0.0',
      aliasZipEntry(
        one,
        `${P}zeros.txt`,
        Array.from({ length: 100 }, (_, i) => `${P}copy${i}.txt`),
      ),
    );
    expect([res.status, res.body]).toEqual([400, `invalid module zip: ${P}copy0.txt: overlaps another entry\n`]);
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses bodies that are not zips, corrupt data and empty bodies', async () => {
    const before = await storedFiles();
    expect((await put(M, 'v1.0.0', Buffer.from('definitely not a zip file, just text'))).body).toMatch(/not a zip file/);
    const corrupt = moduleZip(M, 'v1.0.0', files(M, { 'big.go': `package a\n// ${'x'.repeat(500)}\n` }));
    corrupt[corrupt.indexOf('big.go') + 'big.go'.length + 5] ^= 0xff;
    const res = await put(M, 'v1.0.0', corrupt);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/invalid module zip: zip entry/);
    expect((await put(M, 'v1.0.0', Buffer.alloc(0))).status).toBe(400);
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses an oversize zip, declared or streamed, with 413', async () => {
    const before = await storedFiles();
    const big = moduleZip(M, 'v1.0.0', files(M, { 'data.txt': randomBytes(MAX).toString('base64') }));
    const declared = await put(M, 'v1.0.0', big);
    expect([declared.status, declared.body]).toEqual([413, `module zip is too large (max size is ${MAX} bytes)\n`]);
    // Chunked, as from a client that does not know the length up front: refused while streaming.
    const streamed = await chunkedPut(`${s.url}${zipUrl(priv, M, 'v1.0.0')}`, owner.token, [big.subarray(0, 1000), big.subarray(1000)]);
    expect([streamed.status, streamed.body]).toEqual([413, `module zip is too large (max size is ${MAX} bytes)\n`]);
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses a duplicate version with 409 and keeps the first bytes', async () => {
    const module = 'example.com/dup';
    const first = moduleZip(module, 'v1.0.0', files(module));
    expect((await put(module, 'v1.0.0', first)).status).toBe(201);
    const before = await storedFiles();
    const again = await put(module, 'v1.0.0', moduleZip(module, 'v1.0.0', files(module, { 'b.go': 'package a\n' })));
    expect([again.status, again.body]).toEqual([409, `${module}@v1.0.0 already exists: published module versions are immutable\n`]);
    expect((await get('example.com/dup/@v/v1.0.0.zip')).rawPayload.equals(first)).toBe(true);
    expect(await storedFiles()).toEqual(before);
  });

  it('of two racing uploads of one version, exactly one wins', async () => {
    const module = 'example.com/race';
    const before = await storedFiles();
    const zips = ['a', 'b'].map((x) => moduleZip(module, 'v1.0.0', files(module, { [`${x}.go`]: `package a // ${x}\n` })));
    const results = await Promise.all(zips.map((z) => put(module, 'v1.0.0', z)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = zips[results.findIndex((r) => r.status === 201)];
    expect((await get('example.com/race/@v/v1.0.0.zip')).rawPayload.equals(winner)).toBe(true);
    // The loser's zip is gone: what stays is the winner's zip and the go.mod both share.
    expect((await storedFiles()).filter((f) => !before.includes(f))).toHaveLength(2);
  });

  it('answers misses with a quick text/plain 404, including probes of path prefixes', async () => {
    for (const path of [
      'example.com/missing/@v/list',
      'example.com/missing/@latest',
      'example.com/missing/@v/v1.0.0.info',
      'example.com/!org/greet/@v/v9.9.9.zip',
      'example.com/!org/greet/@v/v9.9.9.mod',
      'example.com/!org/@v/list',
      'example.com/%2e%2e%2fx/@v/list',
      'sumdb/sum.golang.org/supported',
      'example.com/!org/greet/@v/v1.0.0.tar',
    ]) {
      const res = await get(path);
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 404, 'text/plain; charset=utf-8']);
      expect(res.body).toMatch(/^not found: /);
    }
  });

  it('enforces access: 401 with a challenge for anonymous, 404 for outsiders, 403 for readers writing', async () => {
    const list = 'example.com/!org/greet/@v/list';
    const anon = await get(list, null);
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic /);
    expect(anon.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await get(list, outsider.token)).status).toBe(404);
    expect((await get(list, reporter.token)).status).toBe(200);
    const basic = await s.api.inject({
      url: `${base(priv)}/${list}`,
      headers: { authorization: `Basic ${Buffer.from(`reporter:${reporter.token}`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    const wrong = await s.api.inject({
      url: `${base(priv)}/${list}`,
      headers: { authorization: `Basic ${Buffer.from('reporter:nope').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);

    const module = 'example.com/acl';
    const zip = moduleZip(module, 'v1.0.0', files(module));
    expect((await put(module, 'v1.0.0', zip, { token: reporter.token })).status).toBe(403);
    expect((await put(module, 'v1.0.0', zip, { token: outsider.token })).status).toBe(404);
    expect((await put(module, 'v1.0.0', zip, { token: undefined })).status).toBe(401);
    expect((await get('example.com/acl/@v/list')).status).toBe(404);

    // Public project: anyone reads, only members write. A project that does not exist looks private.
    expect((await put(module, 'v1.0.0', zip, { project: pub })).status).toBe(201);
    expect((await get('example.com/acl/@v/list', null, pub)).body).toBe('v1.0.0\n');
    expect((await put(module, 'v1.0.1', moduleZip(module, 'v1.0.1', files(module)), { project: pub, token: undefined })).status).toBe(401);
    expect((await s.api.inject({ url: `${base(999999)}/${list}` })).status).toBe(401);
    expect((await s.api.inject({ url: `${base(999999)}/${list}`, token: reporter.token })).status).toBe(404);
  });
});
