import { startTestServer, testModes, type TestProject, type TestServer, type TestUser, waitFor } from '@stowage/testkit';

import { AccessLevel } from '../src';
import { genericFormat } from './generic-fixture';

// The web UI's pages at GitLab's paths, as the server answers them (what the pages show is
// packages/web's browser tests): the app's page with a strict CSP, 404 for what the viewer may
// not read, immutable assets, file downloads by id, and the API's 404 for everything else.

describe.each(testModes())('web pages (%s)', (mode) => {
  let s: TestServer;
  let open: TestProject;
  let secret: TestProject;
  let member: TestUser;
  let pkgLink: string;
  let fileId: number;

  const page = (url: string, headers: Record<string, string> = {}) => s.api.inject({ url, headers });
  const sessionOf = async (token: string) => {
    const res = await s.api.inject({ method: 'POST', url: '/-/session', payload: { token } });
    return { cookie: /stowage_session=[^;]*/.exec(String(res.headers['set-cookie']))![0] };
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, listen: false });
    const group = await s.api.createGroup('team', { visibility: 'public' });
    open = await s.api.createProject('open', { namespaceId: group.id, visibility: 'public' });
    secret = await s.api.createProject('secret', { namespaceId: group.id, visibility: 'private' });
    member = await s.api.createUser('member');
    await s.api.addMember({ project: secret.id }, member.id, AccessLevel.REPORTER);
    for (const p of [open, secret]) {
      const res = await s.api.inject({
        method: 'PUT',
        url: `/api/v4/projects/${p.id}/packages/generic/kit/1.0.0/kit.tgz`,
        token: s.rootToken,
        payload: Buffer.from(`kit of ${p.path_with_namespace}`),
      });
      expect(res.status).toBe(201);
    }
    const [pkg] = await s.api.root<{ id: number; _links: { web_path: string } }[]>('GET', `/api/v4/projects/${secret.id}/packages`);
    pkgLink = pkg._links.web_path;
    [{ id: fileId }] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${secret.id}/packages/${pkg.id}/package_files`);
  });
  afterAll(() => s?.close());

  it('answers the home page with the app and a strict Content-Security-Policy', async () => {
    const res = await page('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/<script type="module" crossorigin src="\/-\/ui\/assets\/index-[\w-]+\.js"><\/script>/);
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('sends the built assets with immutable caching, and nothing else under their path', async () => {
    const script = /src="(\/-\/ui\/assets\/[^"]+\.js)"/.exec((await page('/')).body)![1];
    const res = await page(script, { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-encoding']).toBe('gzip');
    for (const bad of [
      '/-/ui/assets/nope.js',
      '/-/ui/assets/..%2F..%2Fpackage.json',
      '/-/ui/assets/%2e%2e%2findex.html',
      '/-/ui/index.html',
    ]) {
      expect((await page(bad)).status).toBe(404);
    }
  });

  it("opens the package API's _links.web_path, for whoever may read the project", async () => {
    const { cookie } = await sessionOf(member.token);
    expect((await page(pkgLink, { cookie })).status).toBe(200);
    expect((await page(`/${secret.path_with_namespace}/-/packages`, { cookie })).status).toBe(200);
    expect((await page('/groups/team/-/packages', { cookie })).status).toBe(200);
  });

  it("a private project's pages are 404 to anonymous and to a stale cookie; a missing package is 404", async () => {
    for (const headers of <Record<string, string>[]>[{}, { cookie: 'stowage_session=stwses-gone000000000000000000000000000' }]) {
      expect((await page(pkgLink, headers)).status).toBe(404);
      expect((await page(`/${secret.path_with_namespace}/-/packages`, headers)).status).toBe(404);
      expect((await page(`/${secret.path_with_namespace}/-/settings/packages`, headers)).status).toBe(404);
    }
    expect((await page(`/${open.path_with_namespace}/-/packages`)).status).toBe(200);
    expect((await page(`/${open.path_with_namespace}/-/packages/999999`)).status).toBe(404);
    expect((await page('/groups/nowhere/-/packages')).status).toBe(404);
  });

  it('never answers a 404 page with a 304, whatever ETag the browser kept from when it could read it', async () => {
    const { cookie } = await sessionOf(member.token);
    const readable = await page(pkgLink, { cookie });
    const etag = String(readable.headers.etag);
    expect((await page(pkgLink, { cookie, 'if-none-match': etag })).status).toBe(304);
    const gone = await page(pkgLink, { 'if-none-match': etag });
    expect(gone.status).toBe(404);
    expect(gone.headers['cache-control']).toBe('no-store');
    expect(gone.headers.etag).toBeUndefined();
    expect(gone.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('downloads a file by id with the cookie, and only for a reader of its project', async () => {
    const url = `/${secret.path_with_namespace}/-/package_files/${fileId}/download`;
    expect((await page(url)).status).toBe(404);
    const { cookie } = await sessionOf(member.token);
    const res = await page(url, { cookie });
    expect(res.status).toBe(200);
    expect(res.body).toBe(`kit of ${secret.path_with_namespace}`);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="kit.tgz"/);
    // The id of a file of another project is not reachable through this one.
    expect((await page(`/${open.path_with_namespace}/-/package_files/${fileId}/download`)).status).toBe(404);
  });

  it('an image a page shows from a package is not a download; a download is', async () => {
    const { cookie } = await sessionOf(member.token);
    const put = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${secret.id}/packages/generic/pic/1.0.0/pic.png`,
      token: s.rootToken,
      payload: Buffer.from('not really a png'),
    });
    expect(put.status).toBe(201);
    const [pkg] = await s.api.root<{ id: number; last_downloaded_at: string | null }[]>(
      'GET',
      `/api/v4/projects/${secret.id}/packages?package_name=pic`,
    );
    expect(pkg.last_downloaded_at).toBeNull();
    const [file] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${secret.id}/packages/${pkg.id}/package_files`);
    const url = `/${secret.path_with_namespace}/-/package_files/${file.id}/download`;
    expect((await page(url, { cookie, 'sec-fetch-dest': 'image' })).status).toBe(200);
    expect((await page(url, { cookie, 'sec-fetch-dest': 'image' })).status).toBe(200);
    const after = await s.api.root<{ last_downloaded_at: string | null }>('GET', `/api/v4/projects/${secret.id}/packages/${pkg.id}`);
    expect(after.last_downloaded_at).toBeNull();
    expect((await page(url, { cookie, 'sec-fetch-dest': 'document' })).status).toBe(200);
    await waitFor('the download mark', async () => {
      const p = await s.api.root<{ last_downloaded_at: string | null }>('GET', `/api/v4/projects/${secret.id}/packages/${pkg.id}`);
      return p.last_downloaded_at ?? undefined;
    });
  });

  it('a download by id is a package download: refused where packages are off for the project', async () => {
    const [pkg] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${open.id}/packages`);
    const [file] = await s.api.root<{ id: number }[]>('GET', `/api/v4/projects/${open.id}/packages/${pkg.id}/package_files`);
    const url = `/${open.path_with_namespace}/-/package_files/${file.id}/download`;
    const res = await page(url);
    expect([res.status, res.headers['x-content-type-options']]).toEqual([200, 'nosniff']);
    await s.api.root('PUT', `/api/v4/projects/${open.id}`, { packages_enabled: false });
    try {
      const off = await page(url);
      expect([off.status, off.json()]).toEqual([403, { message: '403 Forbidden - Packages are disabled for this project' }]);
    } finally {
      await s.api.root('PUT', `/api/v4/projects/${open.id}`, { packages_enabled: true });
    }
  });

  it('leaves every other path to the API: a JSON 404', async () => {
    for (const url of ['/nope', '/api/v4/nope', '/team/secret', '/team/secret/-/issues', '/-/packages']) {
      const res = await page(url);
      expect(res.status).toBe(404);
      expect(res.json()).toEqual({ message: '404 Not Found' });
    }
  });
});
