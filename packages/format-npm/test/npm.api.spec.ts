import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { npmFormat } from '../src';
import { filesUnder, packageTarball, publishBody, sha1, sha512, tarball } from './npm.fixtures';

const MAX_FILE = 64 * 1024;

describe.each(testModes())('npm registry over HTTP (%s)', (mode) => {
  let s: TestServer;
  let pub: { id: number };
  let priv: { id: number };
  let other: { id: number };
  let groupId: number;
  const users: Record<'maintainer' | 'developer' | 'guest' | 'outsider', string> = {} as never;
  let readDeploy: string;
  let writeDeploy: string;

  const bearer = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  const npmUrl = (projectId: number, rest: string) => `/api/v4/projects/${projectId}/packages/npm/${rest}`;
  const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
    s.api.inject({ url, headers: { ...bearer(token), ...headers } });
  const put = (url: string, payload: unknown, token?: string, headers: Record<string, string> = {}) =>
    s.api.inject({
      method: 'PUT',
      url,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json', 'npm-command': 'publish', ...bearer(token), ...headers },
    });
  const del = (url: string, token?: string) => s.api.inject({ method: 'DELETE', url, headers: bearer(token) });
  const publish = (projectId: number, name: string, version: string, token?: string, opts: Parameters<typeof publishBody>[2] = {}) =>
    put(npmUrl(projectId, name.replace('/', '%2f')), publishBody(name, version, opts), token);

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode, listen: true, config: { formats: { npm: { max_file_size: MAX_FILE } } } });
    const group = await s.api.createGroup('acme', { visibility: 'public' }); // it holds a public project
    groupId = group.id;
    pub = await s.api.createProject('public-lib', { namespaceId: group.id, visibility: 'public' });
    priv = await s.api.createProject('private-lib', { namespaceId: group.id });
    other = await s.api.createProject('secret-lib', { namespaceId: group.id });
    for (const [role, level] of [
      ['maintainer', 40],
      ['developer', 30],
      ['guest', 10],
      ['outsider', 0],
    ] as const) {
      const u = await s.api.createUser(role);
      users[role] = u.token;
      if (level) {
        await s.api.addMember({ project: priv.id }, u.id, level);
        await s.api.addMember({ project: pub.id }, u.id, level);
      }
    }
    readDeploy = (await s.api.createDeployToken({ project: priv.id }, ['read_package_registry'])).token;
    writeDeploy = (await s.api.createDeployToken({ project: priv.id }, ['read_package_registry', 'write_package_registry'])).token;
  }, 120_000);
  afterAll(() => s?.close());

  it('publishes and serves full and abbreviated packuments with server-computed digests', async () => {
    const tgz = packageTarball({ name: '@acme/lib', version: '1.0.0' });
    const manifest = {
      dependencies: { dep: '^1.0.0' },
      optionalDependencies: { opt: '1' },
      bin: { lib: 'cli.js' },
      engines: { node: '>=18' },
      readme: 'long text',
      scripts: { postinstall: 'node x' },
    };
    const res = await publish(priv.id, '@acme/lib', '1.0.0', users.developer, {
      tgz: packageTarball({ name: '@acme/lib', version: '1.0.0' }),
      manifest,
    });
    expect(res.status).toBe(200);
    expect(await publish(priv.id, '@acme/lib', '1.1.0-rc.1', users.developer, { tag: 'next' })).toMatchObject({ status: 200 });

    const full = await get(npmUrl(priv.id, '@acme%2flib'), users.developer);
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toMatch(/^application\/json/);
    const doc = full.json();
    expect(doc).toMatchObject({ _id: '@acme/lib', name: '@acme/lib', 'dist-tags': { latest: '1.0.0', next: '1.1.0-rc.1' } });
    const v1 = doc.versions['1.0.0'];
    expect(v1.dist).toEqual({
      shasum: sha1(tgz),
      integrity: sha512(tgz),
      tarball: `${s.url}/api/v4/projects/${priv.id}/packages/npm/@acme/lib/-/@acme/lib-1.0.0.tgz`,
    });
    expect(v1).toMatchObject({
      dependencies: { dep: '^1.0.0' },
      optionalDependencies: { opt: '1' },
      bin: { lib: 'cli.js' },
      engines: { node: '>=18' },
      hasInstallScript: true,
    });
    expect(v1.readme).toBeUndefined();
    expect(doc.readme).toBeUndefined();
    // The README is kept for the web UI's package page only.
    const [pkg] = (await get(`/api/v4/projects/${priv.id}/packages?package_version=1.0.0`, users.developer)).json<{ id: number }[]>();
    const overview = await get(`/api/v4/projects/${priv.id}/packages/${pkg.id}/overview`, users.developer);
    expect(overview.json()).toMatchObject({ readme: 'long text' });
    expect(Object.keys(doc.time)).toEqual(expect.arrayContaining(['created', 'modified', '1.0.0', '1.1.0-rc.1']));
    expect(doc.modified).toBe(doc.time.modified);

    const corgi = await get(npmUrl(priv.id, '@acme/lib'), users.developer, {
      accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*',
    });
    expect(corgi.headers['content-type']).toMatch(/^application\/vnd\.npm\.install-v1\+json/);
    const abbreviated = corgi.json();
    expect(Object.keys(abbreviated).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions']);
    expect(abbreviated.versions['1.0.0'].scripts).toBeUndefined();
    expect(abbreviated.versions['1.0.0']).toMatchObject({
      hasInstallScript: true,
      dependencies: { dep: '^1.0.0' },
      dist: { integrity: sha512(tgz) },
    });

    const download = await get(`${new URL(v1.dist.tarball).pathname}`, users.guest);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.rawPayload.equals(tgz)).toBe(true);
    // npm's public-registry spelling of the file name works too.
    expect((await get(npmUrl(priv.id, '@acme/lib/-/lib-1.0.0.tgz'), users.guest)).rawPayload.equals(tgz)).toBe(true);
    expect((await get(npmUrl(priv.id, '@acme/lib/-/@acme/lib-9.9.9.tgz'), users.guest)).status).toBe(404);
  });

  it('answers 304 to a matching ETag and changes the ETag on every change', async () => {
    const first = await get(npmUrl(priv.id, '@acme%2flib'), users.developer);
    const etag = String(first.headers.etag);
    expect((await get(npmUrl(priv.id, '@acme%2flib'), users.developer, { 'if-none-match': etag })).status).toBe(304);
    const tag = await s.api.inject({
      method: 'PUT',
      url: npmUrl(priv.id, '-/package/@acme%2flib/dist-tags/beta'),
      payload: '"1.1.0-rc.1"',
      headers: { 'content-type': 'application/json', ...bearer(users.developer) },
    });
    expect(tag.status).toBe(204);
    const after = await get(npmUrl(priv.id, '@acme%2flib'), users.developer, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json()['dist-tags'].beta).toBe('1.1.0-rc.1');
    // Concurrent first reads of the new revision get one and the same document.
    await publish(priv.id, '@acme/lib', '1.0.1', users.developer);
    const many = await Promise.all(Array.from({ length: 5 }, () => get(npmUrl(priv.id, '@acme%2flib'), users.developer)));
    expect(new Set(many.map((r) => r.body)).size).toBe(1);
    expect(Object.keys(many[0].json().versions)).toContain('1.0.1');
    await del(npmUrl(priv.id, '@acme/lib/-/@acme/lib-1.0.1.tgz/-rev/x'), users.maintainer);
  });

  it('lists, moves and removes dist-tags with the right roles', async () => {
    const tags = (token?: string) => get(npmUrl(priv.id, '-/package/@acme%2flib/dist-tags'), token);
    const setTag = (tag: string, version: unknown, token?: string) =>
      s.api.inject({
        method: 'PUT',
        url: npmUrl(priv.id, `-/package/@acme%2flib/dist-tags/${tag}`),
        payload: JSON.stringify(version),
        headers: { 'content-type': 'application/json', ...bearer(token) },
      });
    const removeTag = (tag: string, token?: string) => del(npmUrl(priv.id, `-/package/@acme%2flib/dist-tags/${tag}`), token);

    expect((await tags(users.guest)).json()).toEqual({ latest: '1.0.0', next: '1.1.0-rc.1', beta: '1.1.0-rc.1' });
    expect((await setTag('beta', '1.0.0', users.developer)).status).toBe(204);
    expect((await tags(readDeploy)).json().beta).toBe('1.0.0');
    expect(await setTag('beta', '7.7.7', users.developer)).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: '404 Package Not Found' }),
    });
    expect(await setTag('beta', '', users.developer)).toMatchObject({
      status: 400,
      body: JSON.stringify({ error: '"Version" not given' }),
    });
    expect((await setTag('1.0.0', '1.0.0', users.developer)).status).toBe(400);
    expect((await setTag('beta', '1.0.0', users.guest)).status).toBe(403);
    expect((await setTag('beta', '1.0.0')).status).toBe(401);
    expect((await removeTag('beta', users.developer)).status).toBe(403);
    expect((await removeTag('beta', users.maintainer)).status).toBe(204);
    expect(await removeTag('beta', users.maintainer)).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: '404 Package tag Not Found' }),
    });
    expect((await get(npmUrl(priv.id, '-/package/nothing-here/dist-tags'), users.guest)).status).toBe(404);
    // The same list at group and instance scope.
    expect((await get(`/api/v4/groups/${groupId}/-/packages/npm/-/package/@acme%2flib/dist-tags`, users.guest)).json()).toEqual({
      latest: '1.0.0',
      next: '1.1.0-rc.1',
    });
    expect((await get('/api/v4/packages/npm/-/package/@acme%2flib/dist-tags', users.guest)).json()).toEqual({
      latest: '1.0.0',
      next: '1.1.0-rc.1',
    });

    // Changes at group and instance scope land in the project holding the version, with its roles.
    const groupTag = (method: 'PUT' | 'DELETE', prefix: string, tag: string, token?: string, version?: string) =>
      s.api.inject({
        method,
        url: `${prefix}/-/package/@acme%2flib/dist-tags/${tag}`,
        payload: version === undefined ? undefined : JSON.stringify(version),
        headers: { ...(version === undefined ? {} : { 'content-type': 'application/json' }), ...bearer(token) },
      });
    const groupPrefix = `/api/v4/groups/${groupId}/-/packages/npm`;
    const instancePrefix = '/api/v4/packages/npm';
    expect((await groupTag('PUT', groupPrefix, 'grp', users.developer, '1.0.0')).status).toBe(204);
    expect((await tags(users.guest)).json().grp).toBe('1.0.0');
    expect((await groupTag('PUT', instancePrefix, 'inst', users.guest, '1.0.0')).status).toBe(403);
    expect((await groupTag('PUT', instancePrefix, 'inst', undefined, '1.0.0')).status).toBe(401);
    expect((await groupTag('PUT', instancePrefix, 'inst', users.outsider, '1.0.0')).status).toBe(404);
    expect((await groupTag('PUT', instancePrefix, 'inst', users.developer, '8.8.8')).status).toBe(404);
    expect((await groupTag('DELETE', instancePrefix, 'grp', users.developer)).status).toBe(403);
    expect((await groupTag('DELETE', instancePrefix, 'grp', users.maintainer)).status).toBe(204);
    expect(await groupTag('DELETE', groupPrefix, 'grp', users.maintainer)).toMatchObject({
      status: 404,
      body: JSON.stringify({ error: '404 Package tag Not Found' }),
    });
    expect((await tags(users.guest)).json().grp).toBeUndefined();
  });

  it('applies the auth matrix to reads and publishes', async () => {
    expect((await publish(pub.id, 'open-lib', '1.0.0', users.developer)).status).toBe(200);
    // Anonymous: public readable, private asks for credentials, writes always 401.
    expect((await get(npmUrl(pub.id, 'open-lib'))).status).toBe(200);
    expect((await get(npmUrl(pub.id, 'open-lib/-/open-lib-1.0.0.tgz'))).status).toBe(200);
    const anonPrivate = await get(npmUrl(priv.id, '@acme%2flib'));
    expect(anonPrivate.status).toBe(401);
    expect(anonPrivate.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await get(npmUrl(priv.id, '@acme/lib/-/@acme/lib-1.0.0.tgz'))).status).toBe(401);
    expect((await publish(pub.id, 'open-lib', '1.0.1')).status).toBe(401);
    expect((await get(npmUrl(priv.id, '@acme%2flib'), 'not-a-token')).status).toBe(401);
    // Signed in without membership: the private project does not exist for them.
    expect((await get(npmUrl(priv.id, '@acme%2flib'), users.outsider)).status).toBe(404);
    expect((await publish(pub.id, 'open-lib', '1.0.1', users.outsider)).status).toBe(403);
    // Guest reads (GitLab's current rule) but cannot publish; developer publishes.
    expect((await get(npmUrl(priv.id, '@acme%2flib'), users.guest)).status).toBe(200);
    expect(await publish(priv.id, 'guest-lib', '1.0.0', users.guest)).toMatchObject({ status: 403 });
    // Deploy tokens: read scope reads only, write scope publishes.
    expect((await get(npmUrl(priv.id, '@acme%2flib'), readDeploy)).status).toBe(200);
    expect((await publish(priv.id, 'deploy-lib', '1.0.0', readDeploy)).status).toBe(403);
    expect((await publish(priv.id, 'deploy-lib', '1.0.0', writeDeploy)).status).toBe(200);
    expect((await get(npmUrl(other.id, 'deploy-lib'), writeDeploy)).status).toBe(404);
    // whoami names the caller; the registry's `-/` paths are never package names.
    expect((await get(npmUrl(priv.id, '-/whoami'), users.guest)).json()).toEqual({ username: 'guest' });
    expect((await get(npmUrl(pub.id, '-/whoami'))).status).toBe(401);
    expect((await get(npmUrl(pub.id, '-/user/org.couchdb.user:x'))).status).toBe(404);
  });

  it('merges group and instance metadata only over projects the caller may read', async () => {
    expect((await publish(other.id, '@acme/lib', '3.0.0', s.rootToken)).status).toBe(200);
    const group = await get(`/api/v4/groups/${groupId}/-/packages/npm/@acme%2flib`, users.developer);
    expect(group.status).toBe(200);
    expect(Object.keys(group.json().versions).sort()).toEqual(['1.0.0', '1.1.0-rc.1']);
    const instance = await get('/api/v4/packages/npm/@acme%2flib', users.developer);
    expect(Object.keys(instance.json().versions).sort()).toEqual(['1.0.0', '1.1.0-rc.1']);
    expect(instance.json().versions['1.0.0'].dist.tarball).toContain(`/api/v4/projects/${priv.id}/packages/npm/`);
    const asRoot = await get('/api/v4/packages/npm/@acme%2flib', s.rootToken);
    expect(Object.keys(asRoot.json().versions).sort()).toEqual(['1.0.0', '1.1.0-rc.1', '3.0.0']);
    // Nothing readable answers as nothing there (npm.existence.spec.ts): 404 signed in, 401 anonymous.
    expect((await get('/api/v4/packages/npm/@acme%2flib', users.outsider)).status).toBe(404);
    expect((await get('/api/v4/packages/npm/@acme%2flib')).status).toBe(401);
    expect((await get('/api/v4/packages/npm/@acme%2fnope', users.developer)).status).toBe(404);
    // Instance scope only knows `@<root namespace>/…` names.
    expect((await get('/api/v4/packages/npm/open-lib', users.developer)).status).toBe(404);
    expect((await get('/api/v4/packages/npm/@other%2flib', s.rootToken)).status).toBe(404);
  });

  it('refuses bad publishes with npm-style errors and stores nothing', async () => {
    const storage = s.storagePath;
    const before = (await filesUnder(storage)).length;
    const name = 'bad-lib';
    const url = npmUrl(priv.id, name);
    const tgz = packageTarball({ name, version: '1.0.0' });
    const cases: [string, () => Promise<{ status: number; body: string }>, number, string | RegExp][] = [
      [
        'shasum mismatch',
        () => put(url, publishBody(name, '1.0.0', { dist: { shasum: sha1(Buffer.from('x')) } }), users.developer),
        400,
        'shasum in the request does not match the tarball.',
      ],
      [
        'integrity mismatch',
        () => put(url, publishBody(name, '1.0.0', { dist: { integrity: sha512(Buffer.from('x')) } }), users.developer),
        400,
        'integrity in the request does not match the tarball.',
      ],
      [
        'URL name differs from body',
        () => put(npmUrl(priv.id, 'other-name'), publishBody(name, '1.0.0'), users.developer),
        400,
        /does not match the URL/,
      ],
      [
        'invalid name',
        () =>
          put(npmUrl(priv.id, '@grp%2fmy_inv@@lid_package_name'), publishBody('@grp/my_inv@@lid_package_name', '1.0.0'), users.developer),
        400,
        /Name is invalid/,
      ],
      ['leading dot name', () => put(npmUrl(priv.id, '.hidden'), publishBody('.hidden', '1.0.0'), users.developer), 400, /Name is invalid/],
      [
        'missing attachment',
        () => put(url, { ...publishBody(name, '1.0.0'), _attachments: {} }, users.developer),
        400,
        'Attachment data is empty.',
      ],
      ['empty attachment', () => put(url, publishBody(name, '1.0.0', { data: '' }), users.developer), 400, 'Attachment data is empty.'],
      [
        'attachment under another name',
        () => put(url, publishBody(name, '1.0.0', { attachmentName: 'x-1.0.0.tgz' }), users.developer),
        400,
        'Attachment data is empty.',
      ],
      [
        'not a tarball',
        () => put(url, publishBody(name, '1.0.0', { tgz: Buffer.from('plain text') }), users.developer),
        400,
        /Invalid tarball/,
      ],
      [
        'tarball of another package',
        () => put(url, publishBody(name, '1.0.0', { tgz: packageTarball({ name: 'evil', version: '1.0.0' }) }), users.developer),
        400,
        /package.json in the tarball \(evil@1.0.0\) does not match bad-lib@1.0.0/,
      ],
      [
        'tarball without package.json',
        () => put(url, publishBody(name, '1.0.0', { tgz: tarball({ 'package/index.js': 'x' }) }), users.developer),
        400,
        /no package\/package.json/,
      ],
      ['no version', () => put(url, { ...publishBody(name, '1.0.0'), versions: {} }, users.developer), 400, 'Version is empty.'],
      [
        'file over max_file_size',
        () => put(url, publishBody(name, '1.0.0', { tgz: Buffer.alloc(MAX_FILE + 1, 1) }), users.developer),
        400,
        'File is too large.',
      ],
      [
        'body over the limit',
        () => put(url, { ...publishBody(name, '1.0.0'), padding: 'x'.repeat(2 * 1024 * 1024) }, users.developer),
        413,
        /Request body is too large/,
      ],
      [
        'not JSON',
        () =>
          s.api.inject({
            method: 'PUT',
            url,
            payload: '{nope',
            headers: { 'content-type': 'application/json', ...bearer(users.developer) },
          }),
        400,
        'Request body is not valid JSON',
      ],
      [
        'CRLF in the name',
        () => get(npmUrl(priv.id, '%0d%0ahttp:%2f%2fexample.com'), users.developer),
        400,
        'package_name should be a valid file path',
      ],
    ];
    for (const version of ['1', '1.2', '1./2.3', '../../../../../1.2.3', '%2e%2e%2f1.2.3', 'v1.0.0']) {
      cases.push([
        `version ${version}`,
        () => put(url, publishBody(name, version, { tgz }), users.developer),
        400,
        'Validation failed: Version should follow SemVer: https://semver.org',
      ]);
    }
    for (const [label, send, status, error] of cases) {
      const res = await send();
      expect({ label, status: res.status }).toEqual({ label, status });
      expect({ label, error: JSON.parse(res.body).error }).toEqual({
        label,
        error: expect.stringMatching(error instanceof RegExp ? error : new RegExp(`^${error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)),
      });
    }
    expect((await get(url, users.developer)).status).toBe(404);
    expect((await s.api.inject({ url: `/api/v4/projects/${priv.id}/packages?package_name=bad`, token: s.rootToken })).json()).toEqual([]);
    expect((await filesUnder(storage)).length).toBe(before);
  });

  it('refuses to republish a version, even with other bytes', async () => {
    const again = await publish(priv.id, '@acme/lib', '1.0.0', users.maintainer, {
      tgz: packageTarball({ name: '@acme/lib', version: '1.0.0' }, { 'package/extra.js': 'new' }),
    });
    expect(again.status).toBe(403);
    expect(again.json()).toEqual({ error: 'Package already exists.' });

    // Two publishes of one new version at once: one wins, the loser's tarball is not kept.
    const storage = s.storagePath;
    const before = (await filesUnder(storage)).length;
    const racers = ['a', 'b'].map((v) => packageTarball({ name: 'race-lib', version: '1.0.0' }, { 'package/which.js': v }));
    const results = await Promise.all(racers.map((tgz) => publish(priv.id, 'race-lib', '1.0.0', users.developer, { tgz })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
    expect((await filesUnder(storage)).length).toBe(before + 1);
    const winner = racers[results.findIndex((r) => r.status === 200)];
    expect((await get(npmUrl(priv.id, 'race-lib/-/race-lib-1.0.0.tgz'), users.guest)).rawPayload.equals(winner)).toBe(true);
  });

  it('deprecates with Maintainer rights only, and reports versions to deprecate', async () => {
    const doc = (await get(npmUrl(priv.id, '@acme%2flib?write=true'), users.maintainer)).json();
    const body = { ...doc, versions: { '1.0.0': { ...doc.versions['1.0.0'], deprecated: 'too old' } } };
    const headers = { 'npm-command': 'deprecate' };
    expect((await put(npmUrl(priv.id, '@acme%2flib'), body, users.developer, headers)).status).toBe(403);
    expect((await put(npmUrl(priv.id, '@acme%2flib'), { ...doc, versions: {} }, users.maintainer, headers)).json()).toEqual({
      error: '"package versions to deprecate" not given',
    });
    expect((await put(npmUrl(priv.id, '@acme%2flib'), body, users.maintainer, headers)).status).toBe(200);
    const after = (await get(npmUrl(priv.id, '@acme%2flib'), users.guest, { accept: 'application/vnd.npm.install-v1+json' })).json();
    expect(after.versions['1.0.0'].deprecated).toBe('too old');
    expect(after.versions['1.1.0-rc.1'].deprecated).toBeUndefined();
    const undo = { ...doc, versions: { '1.0.0': { ...doc.versions['1.0.0'], deprecated: '' } } };
    // Core gives deploy tokens no 'delete' rights (GitLab lets write tokens deprecate).
    expect((await put(npmUrl(priv.id, '@acme%2flib'), undo, writeDeploy, headers)).status).toBe(403);
    expect((await put(npmUrl(priv.id, '@acme%2flib'), undo, users.maintainer, headers)).status).toBe(200);
    expect((await get(npmUrl(priv.id, '@acme%2flib'), users.guest)).json().versions['1.0.0'].deprecated).toBeUndefined();
  });

  it('unpublishes with Maintainer rights only', async () => {
    // The PUT of a one-version unpublish: versions missing from the body go, tags follow it.
    expect((await publish(priv.id, 'two-lib', '1.0.0', users.developer)).status).toBe(200);
    expect((await publish(priv.id, 'two-lib', '2.0.0', users.developer)).status).toBe(200);
    const doc = (await get(npmUrl(priv.id, 'two-lib?write=true'), users.maintainer)).json();
    const without2 = { ...doc, versions: { '1.0.0': doc.versions['1.0.0'] }, 'dist-tags': { latest: '1.0.0' } };
    expect((await put(npmUrl(priv.id, `two-lib/-rev/${doc._rev}`), without2, users.developer)).status).toBe(403);
    expect((await put(npmUrl(priv.id, `two-lib/-rev/${doc._rev}`), { ...doc, versions: {} }, users.maintainer)).json()).toEqual({
      error: '"versions" not given',
    });
    expect((await put(npmUrl(priv.id, `two-lib/-rev/${doc._rev}`), without2, users.maintainer)).status).toBe(200);
    const after = (await get(npmUrl(priv.id, 'two-lib'), users.maintainer)).json();
    expect(Object.keys(after.versions)).toEqual(['1.0.0']);
    expect(after['dist-tags']).toEqual({ latest: '1.0.0' });
    expect((await get(npmUrl(priv.id, 'two-lib/-/two-lib-2.0.0.tgz'), users.maintainer)).status).toBe(404);

    expect((await del(npmUrl(priv.id, 'deploy-lib/-rev/1-stowage'), users.developer)).status).toBe(403);
    expect((await del(npmUrl(priv.id, 'deploy-lib/-rev/1-stowage'), users.maintainer)).status).toBe(200);
    expect((await get(npmUrl(priv.id, 'deploy-lib'), users.maintainer)).status).toBe(404);
    expect((await del(npmUrl(priv.id, 'deploy-lib/-rev/1-stowage'), users.maintainer)).status).toBe(404);
  });

  it('answers audit requests to signed-in callers', async () => {
    const audit = (url: string, token?: string) =>
      s.api.inject({
        method: 'POST',
        url,
        payload: Buffer.from([0x1f, 0x8b]),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...bearer(token) },
      });
    expect((await audit(npmUrl(pub.id, '-/npm/v1/security/advisories/bulk'))).status).toBe(401);
    expect(await audit(npmUrl(pub.id, '-/npm/v1/security/advisories/bulk'), users.developer)).toMatchObject({ status: 200, body: '{}' });
    expect((await audit('/api/v4/packages/npm/-/npm/v1/security/audits/quick', users.developer)).status).toBe(200);
    expect((await audit(`/api/v4/groups/${groupId}/-/packages/npm/-/npm/v1/security/audits/quick`, users.developer)).status).toBe(200);
  });

  it('searches only what the caller may read', async () => {
    const names = async (url: string, token?: string) =>
      (await get(url, token))
        .json()
        .objects.map((o: { package: { name: string } }) => o.package.name)
        .sort();
    expect(await names('/api/v4/packages/npm/-/v1/search?text=lib', users.developer)).toEqual([
      '@acme/lib',
      'open-lib',
      'race-lib',
      'two-lib',
    ]);
    expect(await names('/api/v4/packages/npm/-/v1/search?text=lib')).toEqual(['open-lib']);
    expect(await names('/api/v4/packages/npm/-/v1/search?text=lib', s.rootToken)).toEqual([
      '@acme/lib',
      '@acme/lib',
      'open-lib',
      'race-lib',
      'two-lib',
    ]);
    expect(await names(npmUrl(pub.id, '-/v1/search?text='))).toEqual(['open-lib']);
    expect(await names(`/api/v4/groups/${groupId}/-/packages/npm/-/v1/search?text=LIB&size=1`, users.developer)).toHaveLength(1);
  });
});

// GitLab's forwarding (upstream mode: redirect), in one mode: nothing in it touches the database differently.
describe('npm request forwarding', () => {
  let s: TestServer;
  let projectId: number;
  let token: string;
  const FORWARD = 'https://registry.example.test';

  beforeAll(async () => {
    s = await startTestServer({
      formats: [npmFormat],
      mode: testModes()[0],
      listen: false,
      config: { formats: { npm: { package_requests_forwarding: true, upstream: { url: FORWARD, mode: 'redirect' } } } },
    });
    const user = await s.api.createUser('carol');
    token = user.token;
    const project = await s.api.createProject('fwd', { visibility: 'public' });
    projectId = project.id;
    await s.api.addMember({ project: projectId }, user.id, 30);
    const res = await s.api.inject({
      method: 'PUT',
      url: `/api/v4/projects/${projectId}/packages/npm/here`,
      payload: JSON.stringify(publishBody('here', '1.0.0')),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
  });
  afterAll(() => s?.close());

  it('redirects packuments nobody in scope publishes, and nothing else', async () => {
    const at = (url: string, method: 'GET' | 'POST' = 'GET') =>
      s.api.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        payload: method === 'POST' ? '{}' : undefined,
      });
    const project = `/api/v4/projects/${projectId}/packages/npm`;
    expect(await at(`${project}/left-pad`)).toMatchObject({ status: 302, headers: { location: `${FORWARD}/left-pad` } });
    expect(await at(`${project}/@types%2fnode`)).toMatchObject({ status: 302, headers: { location: `${FORWARD}/@types%2fnode` } });
    expect(await at('/api/v4/packages/npm/left-pad')).toMatchObject({ status: 302, headers: { location: `${FORWARD}/left-pad` } });
    expect((await at(`${project}/here`)).status).toBe(200);
    expect((await at(`${project}/-/package/left-pad/dist-tags`)).status).toBe(404);
    expect((await at(`${project}/left-pad/-/left-pad-1.0.0.tgz`)).status).toBe(404);
    expect(await at(`${project}/-/npm/v1/security/advisories/bulk`, 'POST')).toMatchObject({
      status: 307,
      headers: { location: `${FORWARD}/-/npm/v1/security/advisories/bulk` },
    });
  });
});
