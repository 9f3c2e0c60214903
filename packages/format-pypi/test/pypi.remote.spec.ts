import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  downloadedBytes,
  type FaultProxy,
  type PypiTreeFile,
  type PypiUpstreamTree,
  pypiUpstreamTree,
  startFaultProxy,
  startStaticHttp,
  startTestServer,
  type StaticHttp,
  storedBlobKeys,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
} from '@stowage/testkit';

import { pypiFormat } from '../src';

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const basic = (token: string) => ({ authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}` });

/** A multipart upload of one file, as twine sends it. */
function uploadForm(fields: Record<string, string>, file: { name: string; bytes: Buffer }): { boundary: string; body: Buffer } {
  const boundary = 'remote-spec-boundary';
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="${file.name}"\r\n\r\n`),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { boundary, body: Buffer.concat(parts) };
}

let tree: PypiUpstreamTree;
let upstream: StaticHttp;

beforeAll(async () => {
  tree = await pypiUpstreamTree();
  upstream = await startStaticHttp(tree.root);
}, 180_000);

afterAll(async () => {
  await upstream?.stop();
});

const treeBytes = (f: PypiTreeFile) => readFile(join(tree.root, f.path));

describe.each(testModes())('pypi remote registry (%s)', (mode) => {
  let s: TestServer;
  let proxy: FaultProxy;
  let dev: TestUser;
  let outsider: TestUser;
  let team: { id: number };
  let app: TestProject;
  let secret: TestProject;

  const projectApi = (p: { id: number }) => `/api/v4/projects/${p.id}/packages/pypi`;
  const groupApi = (g: { id: number }) => `/api/v4/groups/${g.id}/-/packages/pypi`;
  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    s.api.inject({ url, headers: { ...(token ? basic(token) : {}), ...headers } });
  const remoteUrl = (api: string, f: PypiTreeFile) => `${s.config.server.external_url}${api}/remote/${f.project}/${f.sha256}/${f.filename}`;

  beforeAll(async () => {
    proxy = await startFaultProxy(upstream.url);
    s = await startTestServer({
      formats: [pypiFormat],
      mode,
      config: { formats: { pypi: { package_requests_forwarding: true, upstream: { url: `${proxy.url}/simple/` } } } },
    });
    dev = await s.api.createUser('dev');
    outsider = await s.api.createUser('outsider');
    team = await s.api.createGroup('team', { visibility: 'public' });
    app = await s.api.createProject('app', { namespaceId: team.id, visibility: 'public' });
    secret = await s.api.createProject('secret', { namespaceId: team.id });
    await s.api.addMember({ group: team.id }, dev.id, 30);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await proxy?.close();
  });

  it('serves the upstream page of a name nobody holds, its links pointing at Stowage, fetched once', async () => {
    const res = await get(`${projectApi(app)}/simple/up-beta/`, dev.token);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers.warning).toBeUndefined();
    const wheel = tree.file('up-beta', '1.0', 'wheel');
    const sdist = tree.file('up-beta', '2.0', 'sdist');
    // requires-python escaped once (the upstream's `&gt;=3.7` decoded, then escaped again), PEP 658 and 714 attributes kept.
    expect(res.body).toContain(
      `<a href="${remoteUrl(projectApi(app), wheel)}#sha256=${wheel.sha256}" data-requires-python="&gt;=3.7" ` +
        `data-dist-info-metadata="sha256=${wheel.metadataSha256}" data-core-metadata="sha256=${wheel.metadataSha256}">${wheel.filename}</a>`,
    );
    expect(res.body).toContain(
      `<a href="${remoteUrl(projectApi(app), sdist)}#sha256=${sdist.sha256}" data-requires-python="&lt;3">${sdist.filename}</a>`,
    );
    expect(res.body.match(/<a /g)).toHaveLength(tree.projects['up-beta'].length);
    expect(res.body).not.toContain(proxy.url);

    const json = await get(`${projectApi(app)}/simple/up-beta/`, dev.token, { accept: JSON_TYPE });
    expect(json.headers['content-type']).toBe(JSON_TYPE);
    const files = json.json<{ files: Record<string, unknown>[] }>().files;
    expect(files).toContainEqual({
      filename: wheel.filename,
      url: `${remoteUrl(projectApi(app), wheel)}#sha256=${wheel.sha256}`,
      hashes: { sha256: wheel.sha256 },
      'requires-python': '>=3.7',
      'core-metadata': { sha256: wheel.metadataSha256 },
    });
    expect(files.map((f) => f.filename).sort()).toEqual(tree.projects['up-beta'].map((f) => f.filename).sort());
    // One upstream request, which asked for PEP 691 JSON and was answered HTML by the static tree.
    expect(proxy.count('/simple/up-beta/')).toBe(1);
  });

  it('answers the same page at group scope, linking the group route', async () => {
    const res = await get(`${groupApi(team)}/simple/up-alpha/`, dev.token, { accept: JSON_TYPE });
    expect(res.status).toBe(200);
    const urls = res.json<{ files: { url: string }[] }>().files.map((f) => f.url.split('#')[0]);
    expect(urls.sort()).toEqual(tree.projects['up-alpha'].map((f) => remoteUrl(groupApi(team), f)).sort());
  });

  it('redirects a name that is not normalized before going anywhere', async () => {
    const res = await get(`${projectApi(app)}/simple/Up_Alpha/`, dev.token);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`${s.config.server.external_url}${projectApi(app)}/simple/up-alpha/`);
  });

  it('downloads an upstream file and its PEP 658 metadata once, verified, then from its cache', async () => {
    await get(`${projectApi(app)}/simple/up-alpha/`, dev.token);
    const wheel = tree.file('up-alpha', '1.1', 'wheel');
    for (let i = 0; i < 2; i++) {
      const res = await get(remoteUrl(projectApi(app), wheel).replace(s.config.server.external_url, ''), dev.token);
      expect(res.status).toBe(200);
      expect(sha256(await downloadedBytes(res))).toBe(wheel.sha256);
      const meta = await get(`${remoteUrl(projectApi(app), wheel).replace(s.config.server.external_url, '')}.metadata`, dev.token);
      expect(meta.status).toBe(200);
      expect(sha256(await downloadedBytes(meta))).toBe(wheel.metadataSha256);
    }
    expect(proxy.count(`/${wheel.path}`)).toBe(1);
    expect(proxy.count(`/${wheel.path}.metadata`)).toBe(1);
    const cached = await s.api.root<{ package_name: string; file_name: string; file_sha256: string }[]>(
      'GET',
      '/api/v4/packages/remote_files?package_type=pypi&package_name=up-alpha',
    );
    expect(cached.map((c) => [c.file_name, c.file_sha256]).sort()).toEqual(
      [
        [wheel.filename, wheel.sha256],
        [`${wheel.filename}.metadata`, wheel.metadataSha256],
      ].sort(),
    );
  });

  it('answers 404 for a file the upstream page does not name with that sha256, without asking the upstream for it', async () => {
    const wheel = tree.file('up-alpha', '1.0', 'wheel');
    const sdist = tree.file('up-alpha', '1.0', 'sdist');
    const api = projectApi(app);
    proxy.clearLog();
    const wrong = [
      `${api}/remote/up-alpha/${'0'.repeat(64)}/${wheel.filename}`,
      `${api}/remote/up-alpha/${sdist.sha256}/${wheel.filename}`,
      `${api}/remote/up-alpha/${wheel.sha256}/up_alpha-9.9-py3-none-any.whl`,
      // An sdist has no metadata file upstream.
      `${api}/remote/up-alpha/${sdist.sha256}/${sdist.filename}.metadata`,
      // The name must be the page's: another page does not lend its files.
      `${api}/remote/up-beta/${wheel.sha256}/${wheel.filename}`,
      `${api}/remote/..%2F..%2Ffiles/${wheel.sha256}/${wheel.filename}`,
      `${api}/remote/up-alpha/not-a-digest/${wheel.filename}`,
    ];
    for (const url of wrong) expect([url, (await get(url, dev.token)).status]).toEqual([url, 404]);
    expect(proxy.count((p) => p.startsWith('/files/'))).toBe(0);
  });

  it('answers 404 for a name the upstream does not have', async () => {
    const res = await get(`${projectApi(app)}/simple/no-such-project/`, dev.token);
    expect(res.status).toBe(404);
    expect(proxy.count('/simple/no-such-project/')).toBe(1);
  });

  describe('a name held in scope', () => {
    const beta = () => tree.file('up-beta', '1.0', 'wheel');

    beforeAll(async () => {
      // root publishes the upstream's own wheel of `up-beta` into the private project.
      const bytes = await treeBytes(beta());
      const form = uploadForm(
        { ':action': 'file_upload', name: 'up-beta', version: '1.0', filetype: 'bdist_wheel', sha256_digest: sha256(bytes) },
        { name: beta().filename, bytes },
      );
      const res = await s.api.inject({
        method: 'POST',
        url: projectApi(secret),
        headers: { ...basic(s.rootToken), 'content-type': `multipart/form-data; boundary=${form.boundary}` },
        payload: form.body,
      });
      expect(res.status).toBe(201);
      proxy.clearLog();
    });

    it('is answered locally at project and group scope, and never asked upstream', async () => {
      const local = `/files/${beta().sha256}/${beta().filename}`;
      const own = await get(`${projectApi(secret)}/simple/up-beta/`, s.rootToken);
      expect(own.status).toBe(200);
      expect(own.body).toContain(`${projectApi(secret)}${local}`);
      const group = await get(`${groupApi(team)}/simple/up-beta/`, dev.token);
      expect(group.status).toBe(200);
      expect(group.body).toContain(`${groupApi(team)}${local}`);
      expect(group.body).not.toContain('/remote/');
      expect(group.body.match(/<a /g)).toHaveLength(1);
      // Its upstream files are not served through the group either.
      const file = await get(`${groupApi(team)}/remote/up-beta/${beta().sha256}/${beta().filename}`, dev.token);
      expect(file.status).toBe(404);
      expect(proxy.count()).toBe(0);
    });

    it('is a 404 for a caller who may not read the project holding it, and still never asked upstream', async () => {
      for (const token of [outsider.token, undefined]) {
        const res = await get(`${groupApi(team)}/simple/up-beta/`, token);
        expect(res.status).toBe(404);
      }
      expect(proxy.count()).toBe(0);
    });
  });

  it('follows the group forwarding switch (PUT /groups/:id/package_settings)', async () => {
    const wheel = tree.file('up-alpha', '1.0', 'wheel');
    const file = remoteUrl(projectApi(app), wheel).replace(s.config.server.external_url, '');
    await s.api.setPackageSettings({ group: team.id }, { pypi_package_requests_forwarding: false });
    const settings = await s.api.root('GET', `/api/v4/groups/${team.id}/package_settings`);
    expect(settings).toMatchObject({ pypi_package_requests_forwarding: false, lock_pypi_package_requests_forwarding: false });
    proxy.clearLog();
    expect((await get(`${projectApi(app)}/simple/up-alpha/`, dev.token)).status).toBe(404);
    expect((await get(`${groupApi(team)}/simple/up-alpha/`, dev.token)).status).toBe(404);
    expect((await get(file, dev.token)).status).toBe(404);
    expect(proxy.count()).toBe(0);

    await s.api.setPackageSettings({ group: team.id }, { pypi_package_requests_forwarding: true });
    expect((await get(`${projectApi(app)}/simple/up-alpha/`, dev.token)).status).toBe(200);
    expect((await get(file, dev.token)).status).toBe(200);
  });
});

describe('pypi remote registry: upstream faults', () => {
  let s: TestServer;
  let proxy: FaultProxy;
  let project: TestProject;
  const api = () => `/api/v4/projects/${project.id}/packages/pypi`;
  const get = (path: string) => s.api.inject({ url: `${api()}${path}` });
  const fileUrl = (f: PypiTreeFile) => `/remote/${f.project}/${f.sha256}/${f.filename}`;
  const cachedFiles = () => s.api.root<{ file_name: string }[]>('GET', '/api/v4/packages/remote_files?package_type=pypi');

  beforeAll(async () => {
    proxy = await startFaultProxy(upstream.url);
    s = await startTestServer({
      formats: [pypiFormat],
      mode: 'postgres',
      // Every page read revalidates (metadata_ttl 0); two seconds without a byte is a timeout
      // (a loaded machine's http.server may take one to answer).
      config: {
        formats: { pypi: { package_requests_forwarding: true, upstream: { url: `${proxy.url}/simple/`, timeout: 2, metadata_ttl: 0 } } },
      },
    });
    project = await s.api.createProject('open', { visibility: 'public' });
  }, 120_000);

  afterEach(async () => {
    await proxy.reset();
  });

  afterAll(async () => {
    await s?.close();
    await proxy?.close();
  });

  it('upstream down with nothing cached: 502, never 500', async () => {
    await proxy.down();
    const res = await get('/simple/up-alpha/');
    expect(res.status).toBe(502);
    expect(res.json()).toEqual({ message: expect.stringMatching(/^502 .* - upstream: cannot be reached \(ECONNREFUSED\)$/) });
  });

  it('upstream slower than the timeout: 504', async () => {
    proxy.delay(6_000, '/simple/up-alpha/');
    const res = await get('/simple/up-alpha/');
    expect(res.status).toBe(504);
  });

  it('a corrupt file is a 502 and nothing is kept; the next good answer is cached', async () => {
    const wheel = tree.file('up-alpha', '1.0', 'wheel');
    expect((await get('/simple/up-alpha/')).status).toBe(200);
    const before = await storedBlobKeys(s);
    proxy.corrupt(`/${wheel.path}`);
    const bad = await get(fileUrl(wheel));
    expect(bad.status).toBe(502);
    expect(bad.json().message).toMatch(/does not match the sha256/);
    expect(await cachedFiles()).toEqual([]);
    expect(await storedBlobKeys(s)).toEqual(before);

    await proxy.reset();
    const good = await get(fileUrl(wheel));
    expect(good.status).toBe(200);
    expect(sha256(await downloadedBytes(good))).toBe(wheel.sha256);
    expect((await cachedFiles()).map((f) => f.file_name)).toEqual([wheel.filename]);
  });

  it('a 5xx upstream: the last page is served with a warning, and cached files still download', async () => {
    const wheel = tree.file('up-alpha', '1.0', 'wheel');
    const fresh = await get('/simple/up-alpha/');
    expect(fresh.status).toBe(200);
    proxy.status('/simple/up-alpha/', 503);
    const stale = await get('/simple/up-alpha/');
    expect(stale.status).toBe(200);
    expect(stale.headers.warning).toBe('111 stowage "Revalidation Failed"');
    expect(stale.body).toBe(fresh.body);
    expect(proxy.count('/simple/up-alpha/')).toBeGreaterThanOrEqual(2);

    await proxy.down();
    const file = await get(fileUrl(wheel));
    expect(file.status).toBe(200);
    expect(sha256(await downloadedBytes(file))).toBe(wheel.sha256);
  });

  it('20 concurrent downloads of a cold file make one upstream request', async () => {
    const sdist = tree.file('up-alpha', '1.1', 'sdist');
    expect((await get('/simple/up-alpha/')).status).toBe(200);
    proxy.clearLog();
    // The upstream's answer is held after its first byte until all 20 are asked.
    const gate = proxy.gate(`/${sdist.path}`, 1);
    const all = Promise.all(Array.from({ length: 20 }, () => get(fileUrl(sdist))));
    await gate.reached;
    gate.release();
    const answers = await all;
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(sha256(await downloadedBytes(res))).toBe(sdist.sha256);
    }
    expect(proxy.count(`/${sdist.path}`)).toBe(1);
  });
});

describe('pypi remote registry: a PEP 691 JSON upstream, and redirect mode', () => {
  let origin: TestServer;
  let originProject: TestProject;
  let s: TestServer;
  let redirecting: TestServer;
  let project: TestProject;

  beforeAll(async () => {
    // The upstream is another Stowage: a real PEP 691 index with absolute links and PEP 714 `core-metadata`.
    origin = await startTestServer({ formats: [pypiFormat], mode: 'postgres', listen: true });
    originProject = await origin.api.createProject('public-index', { visibility: 'public' });
    for (const f of tree.projects['up-beta']) {
      const bytes = await treeBytes(f);
      const form = uploadForm(
        {
          ':action': 'file_upload',
          name: 'up-beta',
          version: f.version,
          sha256_digest: sha256(bytes),
          requires_python: f.requiresPython ?? '',
        },
        { name: f.filename, bytes },
      );
      const res = await origin.api.inject({
        method: 'POST',
        url: `/api/v4/projects/${originProject.id}/packages/pypi`,
        headers: { ...basic(origin.rootToken), 'content-type': `multipart/form-data; boundary=${form.boundary}` },
        payload: form.body,
      });
      expect(res.status).toBe(201);
    }
    const url = `${origin.url}/api/v4/projects/${originProject.id}/packages/pypi/simple/`;
    [s, redirecting] = await Promise.all([
      startTestServer({
        formats: [pypiFormat],
        mode: 'postgres',
        config: { formats: { pypi: { package_requests_forwarding: true, upstream: { url } } } },
      }),
      startTestServer({
        formats: [pypiFormat],
        mode: 'postgres',
        config: { formats: { pypi: { package_requests_forwarding: true, upstream: { url, mode: 'redirect' } } } },
      }),
    ]);
    project = await s.api.createProject('consumer', { visibility: 'public' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([s?.close(), redirecting?.close()]);
    await origin?.close();
  });

  it('reads the JSON page and serves its files and metadata, verified', async () => {
    const api = `/api/v4/projects/${project.id}/packages/pypi`;
    const page = await s.api.inject({ url: `${api}/simple/up-beta/`, headers: { accept: JSON_TYPE } });
    expect(page.status).toBe(200);
    const files = page.json<{
      files: { filename: string; url: string; 'core-metadata'?: { sha256: string }; 'requires-python'?: string }[];
    }>().files;
    const wheel = tree.file('up-beta', '1.0', 'wheel');
    const entry = files.find((f) => f.filename === wheel.filename)!;
    expect(entry.url).toBe(`${s.config.server.external_url}${api}/remote/up-beta/${wheel.sha256}/${wheel.filename}#sha256=${wheel.sha256}`);
    expect(entry['requires-python']).toBe('>=3.7');
    // Stowage made this metadata file from the wheel at upload: byte for byte the wheel's METADATA.
    expect(entry['core-metadata']).toEqual({ sha256: wheel.metadataSha256 });
    const path = entry.url.split('#')[0].replace(s.config.server.external_url, '');
    const file = await s.api.inject({ url: path });
    expect(file.status).toBe(200);
    expect(sha256(await downloadedBytes(file))).toBe(wheel.sha256);
    const meta = await s.api.inject({ url: `${path}.metadata` });
    expect(meta.status).toBe(200);
    expect(sha256(await downloadedBytes(meta))).toBe(wheel.metadataSha256);
  });

  it('redirect mode answers GitLab’s 302 to the upstream page', async () => {
    const p = await redirecting.api.createProject('consumer', { visibility: 'public' });
    const res = await redirecting.api.inject({ url: `/api/v4/projects/${p.id}/packages/pypi/simple/up-beta/` });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${origin.url}/api/v4/projects/${originProject.id}/packages/pypi/simple/up-beta/`);
  });
});
