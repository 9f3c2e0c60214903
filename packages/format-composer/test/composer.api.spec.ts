import { join } from 'node:path';

import {
  buildZip,
  filesUnder,
  type FormPart,
  multipart,
  startTestServer,
  storedBlobKeys,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
  type ZipInput,
} from '@stowage/testkit';

import { composerFormat } from '../src';
import { packageZip, sha1, sha256 } from './composer.fixtures';

// The Composer repository and the archive upload at the HTTP level, in both database modes:
// documents and their hashes, caching headers, auth, version sources, duplicates and every
// refused upload (each leaving nothing stored).

const COMPOSER2 = 'Composer/2.5.5 (Linux; 6.1; PHP 8.2.7; cURL 7.88.1)';
const MAX = 256 * 1024;
const UNPACKED = 8 * 1024 * 1024;

const manifest = (name: string, extra: object = {}) => ({ name, type: 'library', autoload: { 'psr-4': { 'Acme\\': 'src/' } }, ...extra });
const archive = (name: string, extra: object = {}) =>
  packageZip(manifest(name, extra), { 'src/A.php': '<?php\nnamespace Acme;\nclass A {}\n' });

describe.each(testModes())('composer repository API (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let guest: TestUser;
  let outsider: TestUser;
  let group: { id: number };
  let lib: TestProject;
  let other: TestProject;
  let openGroup: { id: number };
  let openPub: TestProject;
  let openSecret: TestProject;

  const publish = (project: TestProject, parts: FormPart[], opts: { token?: string | null; headers?: Record<string, string> } = {}) => {
    const { body, contentType } = multipart(parts, { fileType: 'application/zip' });
    return s.api.inject({
      method: 'POST',
      url: `/api/v4/projects/${project.id}/packages/composer`,
      payload: body,
      headers: { 'content-type': contentType, ...opts.headers },
      token: opts.token === null ? undefined : (opts.token ?? dev.token),
    });
  };
  const upload = (project: TestProject, zip: Buffer, fields: Record<string, string> = {}, token?: string | null) =>
    publish(
      project,
      [...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: 'file', value: zip, fileName: 'pkg.zip' }],
      { token },
    );
  const read = (g: { id: number }, path: string, opts: { token?: string | null; headers?: Record<string, string> } = {}) =>
    s.api.inject({
      url: `/api/v4/group/${g.id}/-/packages/composer/${path}`,
      headers: { 'user-agent': COMPOSER2, ...opts.headers },
      token: opts.token === null ? undefined : (opts.token ?? dev.token),
    });
  const packagesOf = async (p: TestProject) =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${p.id}/packages`))
      .map((x) => `${x.name}@${x.version}`)
      .sort();
  const stored = () => filesUnder(join(s.dataDir, 'packages'));

  beforeAll(async () => {
    s = await startTestServer({
      formats: [composerFormat],
      mode,
      listen: true,
      config: { formats: { composer: { max_file_size: MAX, max_unpacked_size: UNPACKED } } },
    });
    [dev, guest, outsider] = await Promise.all([s.api.createUser('dev'), s.api.createUser('guest'), s.api.createUser('outsider')]);
    group = await s.api.createGroup('acme');
    lib = await s.api.createProject('lib', { namespaceId: group.id });
    other = await s.api.createProject('other', { namespaceId: group.id });
    await s.api.addMember({ group: group.id }, dev.id, 30);
    await s.api.addMember({ group: group.id }, guest.id, 10);
    openGroup = await s.api.createGroup('open', { visibility: 'public' });
    openPub = await s.api.createProject('pub', { namespaceId: openGroup.id, visibility: 'public' });
    openSecret = await s.api.createProject('secret', { namespaceId: openGroup.id });
    await s.api.addMember({ group: openGroup.id }, dev.id, 30);
  });
  afterAll(() => s?.close());

  it('publishes an archive and serves packages.json, p2 metadata and the dist archive', async () => {
    const zip = archive('acme/greeter', { require: { php: '>=8.0' }, version: '9.9.9', dist: { url: 'http://evil' } });
    const res = await upload(lib, zip, { version: '1.0.0' });
    expect([res.status, res.json()]).toEqual([201, { message: '201 Created' }]);
    expect(await packagesOf(lib)).toEqual(['acme/greeter@1.0.0']);

    const root = await read(group, 'packages.json');
    expect(root.status).toBe(200);
    expect(root.json()).toEqual({
      packages: [],
      'metadata-url': `/api/v4/group/${group.id}/-/packages/composer/p2/%package%.json`,
      'available-packages': ['acme/greeter'],
    });

    const p2 = await read(group, 'p2/acme/greeter.json');
    expect(p2.status).toBe(200);
    const [v] = p2.json().packages['acme/greeter'];
    expect(v).toMatchObject({
      name: 'acme/greeter',
      version: '1.0.0',
      type: 'library',
      require: { php: '>=8.0' },
      autoload: { 'psr-4': { 'Acme\\': 'src/' } },
      dist: {
        type: 'zip',
        url: `${s.url}/api/v4/projects/${lib.id}/packages/composer/archives/acme/greeter.zip?sha=${sha1(zip)}`,
        reference: sha1(zip),
        shasum: sha1(zip),
      },
    });
    expect(typeof v.uid).toBe('number');
    expect(v.source).toBeUndefined();
    expect((await read(group, 'p2/acme/greeter~dev.json')).status).toBe(404);
    expect((await read(group, 'p2/acme/missing.json')).status).toBe(404);

    const dl = await s.api.inject({ url: new URL(v.dist.url).pathname + new URL(v.dist.url).search, token: dev.token });
    expect([dl.status, dl.headers['content-type'], sha1(dl.rawPayload)]).toEqual([200, 'application/zip', sha1(zip)]);
    const archives = `/api/v4/projects/${lib.id}/packages/composer/archives/acme/greeter.zip`;
    expect((await s.api.inject({ url: archives, token: dev.token })).json()).toEqual({ error: 'sha is missing' });
    expect((await s.api.inject({ url: `${archives}?sha=${'0'.repeat(40)}`, token: dev.token })).status).toBe(404);
    expect(
      (
        await s.api.inject({
          url: `/api/v4/projects/${other.id}/packages/composer/archives/acme/greeter.zip?sha=${sha1(zip)}`,
          token: dev.token,
        })
      ).status,
    ).toBe(404);
  });

  it('serves Composer 1 provider documents whose bytes hash to what they advertise', async () => {
    expect((await upload(lib, archive('acme/legacy'), { version: '2.0.0' })).status).toBe(201);
    const root = await read(group, 'packages.json', { headers: { 'user-agent': 'Composer/1.10.26 (Linux)' } });
    const body = root.json();
    expect(body['providers-url']).toBe(`/api/v4/group/${group.id}/-/packages/composer/%package%$%hash%.json`);
    const hash = body['provider-includes']['p/%hash%.json'].sha256;
    const providers = await read(group, `p/${hash}.json`, { headers: { 'user-agent': 'Composer/1.10.26' } });
    expect(sha256(providers.rawPayload)).toBe(hash);
    const entry = providers.json().providers['acme/legacy'];
    for (const path of [`acme/legacy$${entry.sha256}.json`, `acme/legacy%24${entry.sha256}.json`]) {
      const doc = await read(group, path);
      expect(doc.status).toBe(200);
      expect(sha256(doc.rawPayload)).toBe(entry.sha256);
      expect(doc.json().packages['acme/legacy']['2.0.0'].version).toBe('2.0.0');
    }
    expect((await read(group, 'acme/legacy$.json')).status).toBe(404);
    expect((await read(group, 'acme/none$abc.json')).status).toBe(404);
  });

  it('answers If-Modified-Since and If-None-Match with 304 until the package changes', async () => {
    expect((await upload(lib, archive('acme/cached'), { version: '1.0.0' })).status).toBe(201);
    const first = await read(group, 'p2/acme/cached.json');
    const lastModified = String(first.headers['last-modified']);
    expect(Date.parse(lastModified)).not.toBeNaN();
    const again = await read(group, 'p2/acme/cached.json', { headers: { 'if-modified-since': lastModified } });
    expect([again.status, again.body]).toEqual([304, '']);
    expect((await read(group, 'p2/acme/cached.json', { headers: { 'if-none-match': String(first.headers.etag) } })).status).toBe(304);
    const root = await read(group, 'packages.json');
    expect((await read(group, 'packages.json', { headers: { 'if-modified-since': String(root.headers['last-modified']) } })).status).toBe(
      304,
    );

    expect((await upload(lib, archive('acme/cached'), { version: '1.1.0' })).status).toBe(201);
    const changed = await read(group, 'p2/acme/cached.json', { headers: { 'if-modified-since': lastModified } });
    expect(changed.status).toBe(200);
    expect(changed.json().packages['acme/cached'].map((v: { version: string }) => v.version)).toEqual(['1.0.0', '1.1.0']);
    expect(Date.parse(String(changed.headers['last-modified']))).toBeGreaterThan(Date.parse(lastModified));

    // A deletion changes the document too, though no remaining row is newer.
    const [pkg] = (
      await s.api.root<{ id: number; version: string }[]>('GET', `/api/v4/projects/${lib.id}/packages?package_name=acme/cached`)
    ).filter((p) => p.version === '1.1.0');
    await s.api.root('DELETE', `/api/v4/projects/${lib.id}/packages/${pkg.id}`);
    const afterDelete = await read(group, 'p2/acme/cached.json', {
      headers: { 'if-modified-since': String(changed.headers['last-modified']) },
    });
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.json().packages['acme/cached'].map((v: { version: string }) => v.version)).toEqual(['1.0.0']);
  });

  it('takes the version from the field, GitLab tag or branch, or composer.json', async () => {
    expect((await upload(lib, archive('acme/versions'), { tag: 'v1.2.3' })).status).toBe(201);
    expect((await upload(lib, archive('acme/versions'), { branch: 'main' })).status).toBe(201);
    expect((await upload(lib, archive('acme/versions'), { branch: 'v1.7' })).status).toBe(201);
    expect((await upload(lib, archive('acme/versions', { version: 'v3.0.0-beta.1' }))).status).toBe(201);
    expect((await upload(lib, archive('acme/versions', { version: '9.0.0' }), { version: '4.0.0' })).status).toBe(201);
    const top = packageZip(manifest('acme/nested'), { 'src/A.php': '<?php' }, 'acme-nested-1.0/');
    expect((await upload(lib, top, { version: '1.0.0' })).status).toBe(201);
    expect((await packagesOf(lib)).filter((p) => p.startsWith('acme/versions') || p.startsWith('acme/nested'))).toEqual([
      'acme/nested@1.0.0',
      'acme/versions@1.2.3',
      'acme/versions@1.7.x-dev',
      'acme/versions@3.0.0-beta.1',
      'acme/versions@4.0.0',
      'acme/versions@dev-main',
    ]);
    const p2 = (await read(group, 'p2/acme/versions.json')).json();
    expect(p2.packages['acme/versions'].map((v: { version: string }) => v.version).sort()).toEqual([
      '1.2.3',
      '1.7.x-dev',
      '3.0.0-beta.1',
      '4.0.0',
      'dev-main',
    ]);
  });

  it('replaces a re-uploaded version by default, and refuses it when duplicates are off', async () => {
    const a = archive('acme/dup');
    const b = archive('acme/dup', { description: 'second' });
    expect((await upload(other, a, { version: '1.0.0' })).status).toBe(201);
    expect((await upload(other, b, { version: '1.0.0' })).status).toBe(201);
    expect(await packagesOf(other)).toEqual(['acme/dup@1.0.0']);
    const [v] = (await read(group, 'p2/acme/dup.json')).json().packages['acme/dup'];
    expect([v.description, v.dist.shasum]).toEqual(['second', sha1(b)]);

    await s.api.setPackageSettings({ project: other.id }, { composer_duplicates_allowed: false });
    const before = await stored();
    const res = await upload(other, a, { version: '1.0.0' });
    expect([res.status, res.json().message]).toEqual([400, '400 Bad request - Duplicate package is not allowed']);
    expect(await stored()).toEqual(before);
    expect((await upload(other, a, { version: '1.0.1' })).status).toBe(201);
    await s.api.setPackageSettings({ project: other.id }, { composer_duplicates_allowed: true });
  });

  it('refuses bad uploads with a clear 4xx and stores nothing', async () => {
    const before = await stored();
    const lbefore = await packagesOf(lib);
    const bomb = buildZip([{ name: 'composer.json', data: `{"name":"acme/bomb"${' '.repeat(4 * 1024 * 1024)}}` }]);
    expect(bomb.length).toBeLessThan(MAX);
    const cases: [string, () => ReturnType<typeof upload>, number, RegExp][] = [
      ['not a zip', () => upload(lib, Buffer.from('this is not a zip file at all, just some text')), 400, /not a valid zip archive/],
      [
        'no composer.json',
        () => upload(lib, buildZip([{ name: 'README.md', data: 'hi' }]), { version: '1.0.0' }),
        422,
        /composer.json was not found/,
      ],
      [
        'composer.json in a subdirectory of two',
        () =>
          upload(
            lib,
            buildZip([
              { name: 'a/composer.json', data: '{}' },
              { name: 'b/x', data: '' },
            ]),
            { version: '1.0.0' },
          ),
        422,
        /not found/,
      ],
      ['invalid JSON', () => upload(lib, packageZip('{"name": "acme/x",'), { version: '1.0.0' }), 422, /Invalid JSON/],
      ['JSON not an object', () => upload(lib, packageZip('[1]'), { version: '1.0.0' }), 422, /JSON object/],
      ['no name', () => upload(lib, packageZip({ type: 'library' }), { version: '1.0.0' }), 400, /has no "name"/],
      ['invalid name', () => upload(lib, archive('Acme/Upper'), { version: '1.0.0' }), 400, /"Acme\/Upper" is invalid/],
      ['invalid version', () => upload(lib, archive('acme/badver'), { version: '1.0' }), 400, /version "1.0" is invalid/],
      ['invalid tag', () => upload(lib, archive('acme/badver'), { tag: 'release-1' }), 400, /tag "release-1" is invalid/],
      ['no version', () => upload(lib, archive('acme/nover')), 400, /version is missing/],
      ['tag and branch', () => upload(lib, archive('acme/both'), { tag: 'v1.0.0', branch: 'main' }), 400, /either "tag" or "branch"/],
      [
        'name owned by another project',
        () => upload(openPub, archive('acme/greeter'), { version: '5.0.0' }),
        400,
        /already taken by another project/,
      ],
      ['zip bomb', () => upload(lib, bomb, { version: '1.0.0' }), 400, /larger than/],
      [
        'unpacks too large',
        () => upload(lib, packageZip(manifest('acme/huge'), { 'data.bin': '\0'.repeat(UNPACKED) }), { version: '1.0.0' }),
        400,
        /unpacks to \d+ bytes, more than the limit/,
      ],
      [
        'duplicate entry names',
        () =>
          upload(
            lib,
            buildZip([
              { name: 'composer.json', data: JSON.stringify(manifest('acme/twice')) },
              { name: 'composer.json', data: '{}' },
            ]),
            { version: '1.0.0' },
          ),
        400,
        /more than once/,
      ],
      [
        'path traversal',
        () => upload(lib, packageZip(manifest('acme/evil'), { '../../etc/cron.d/x': 'boom' }), { version: '1.0.0' }),
        400,
        /points outside/,
      ],
      [
        'absolute path',
        () => upload(lib, packageZip(manifest('acme/evil'), { '/etc/passwd': 'boom' }), { version: '1.0.0' }),
        400,
        /points outside/,
      ],
      ['too large', () => upload(lib, Buffer.alloc(MAX + 1024, 1), { version: '1.0.0' }), 413, /larger than the limit/],
      ['no file', () => publish(lib, [{ name: 'version', value: '1.0.0' }]), 400, /file is missing/],
      ['empty file', () => upload(lib, Buffer.alloc(0), { version: '1.0.0' }), 400, /file is empty/],
      ['GitLab tag form without archive', () => publish(lib, [{ name: 'tag', value: 'v1.0.0' }]), 400, /hosts no git repositories/],
      [
        'urlencoded body',
        () =>
          s.api.inject({
            method: 'POST',
            url: `/api/v4/projects/${lib.id}/packages/composer`,
            payload: 'tag=v1.0.0',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            token: dev.token,
          }),
        400,
        /multipart\/form-data/,
      ],
      [
        'broken multipart',
        () =>
          s.api.inject({
            method: 'POST',
            url: `/api/v4/projects/${lib.id}/packages/composer`,
            payload: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK',
            headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
            token: dev.token,
          }),
        400,
        /malformed multipart/,
      ],
    ];
    for (const [what, send, status, message] of cases) {
      const res = await send();
      const body = res.json();
      expect([what, res.status, String(body.message ?? body.error)]).toEqual([what, status, expect.stringMatching(message)]);
    }
    expect(await stored()).toEqual(before);
    expect(await packagesOf(lib)).toEqual(lbefore);
    expect(await packagesOf(openPub)).toEqual([]);
  });

  it.each<[string, ZipInput, string]>([
    ['a symlink', { name: 'src/B.php', data: '/etc/passwd', mode: 0o120777 }, 'the archive entry "src/B.php" is a symbolic link'],
    ['a symlinked directory', { name: 'vendor', data: '../../..', mode: 0o120755 }, 'the archive entry "vendor" is a symbolic link'],
    ['a special file', { name: 'src/fifo', mode: 0o010644 }, 'the archive entry "src/fifo" is a device, FIFO or other special file'],
    [
      'a ".." path',
      { name: 'src/../../x.php', data: 'x' },
      'the archive entry "src/../../x.php" points outside the package directory (a ".." segment)',
    ],
    ['a drive path', { name: 'C:/x.php', data: 'x' }, 'the archive entry "C:/x.php" points outside the package directory (a drive path)'],
    [
      'a backslash path',
      { name: 'src\\..\\..\\x.php', data: 'x' },
      'the archive entry "src\\\\..\\\\..\\\\x.php" has a backslash in its name',
    ],
  ])('refuses an archive with %s, naming the entry, and stores nothing', async (_, entry, message) => {
    const blobsBefore = await storedBlobKeys(s);
    const packagesBefore = await packagesOf(lib);
    const zip = buildZip([
      { name: 'composer.json', data: JSON.stringify(manifest('acme/linked')) },
      { name: 'src/A.php', data: '<?php' },
      entry,
    ]);
    const res = await upload(lib, zip, { version: '1.0.0' });
    expect([res.status, res.json()]).toEqual([400, { message: `400 Bad request - ${message}` }]);
    expect(await packagesOf(lib)).toEqual(packagesBefore);
    expect(await storedBlobKeys(s)).toEqual(blobsBefore);
  });

  it('reads fields sent after the file, and the group by its full path', async () => {
    const res = await publish(lib, [
      { name: 'file', value: archive('acme/late'), fileName: 'late.zip' },
      { name: 'version', value: '0.1.0' },
    ]);
    expect(res.status).toBe(201);
    expect((await read({ id: 'acme' as unknown as number }, 'p2/acme/late.json')).json().packages['acme/late'][0].version).toBe('0.1.0');
  });

  it('gives a new name to exactly one project when two publish it at once', async () => {
    const results = await Promise.all([
      upload(lib, archive('acme/race'), { version: '1.0.0' }),
      upload(other, archive('acme/race'), { version: '1.0.0' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
    expect([...(await packagesOf(lib)), ...(await packagesOf(other))].filter((p) => p.startsWith('acme/race'))).toEqual([
      'acme/race@1.0.0',
    ]);
  });

  it('answers an oversized chunked upload over real HTTP with 413', async () => {
    const { body, contentType } = multipart(
      [
        { name: 'version', value: '1.0.0' },
        { name: 'file', value: Buffer.alloc(4 * MAX, 7), fileName: 'big.zip' },
      ],
      { fileType: 'application/zip' },
    );
    const before = await stored();
    const res = await fetch(`${s.url}/api/v4/projects/${lib.id}/packages/composer`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'private-token': dev.token },
      // A stream body is sent chunked, without Content-Length: the limit is enforced while streaming.
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([
      413,
      `413 Request Entity Too Large - the archive is larger than the limit of ${MAX} bytes`,
    ]);
    expect(await stored()).toEqual(before);
  });

  it('applies GitLab auth: tokens, deploy tokens, roles and what each caller may read', async () => {
    expect((await upload(openSecret, archive('open/secret'), { version: '1.0.0' })).status).toBe(201);
    expect((await upload(openPub, archive('open/public'), { version: '1.0.0' })).status).toBe(201);

    // Private group: anonymous 401 with a challenge, outsiders 404, members (even guests) 200.
    const anon = await read(group, 'packages.json', { token: null });
    expect([anon.status, anon.headers['www-authenticate']]).toEqual([401, 'Basic realm="GitLab Packages Registry"']);
    expect((await read(group, 'packages.json', { token: outsider.token })).status).toBe(404);
    expect((await read(group, 'p2/acme/greeter.json', { token: guest.token })).status).toBe(200);
    expect((await read(group, 'packages.json', { token: 'wrong' })).status).toBe(401);
    const basic = (user: string, pass: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
    expect((await read(group, 'p2/acme/greeter.json', { token: null, headers: basic(dev.username, dev.token) })).status).toBe(200);
    const deploy = await s.api.createDeployToken({ group: group.id }, ['read_package_registry']);
    expect((await read(group, 'p2/acme/greeter.json', { token: null, headers: basic(deploy.username, deploy.token) })).status).toBe(200);
    expect((await read(group, 'p2/acme/greeter.json', { token: null, headers: basic(deploy.username, 'nope') })).status).toBe(401);

    // Public group with a private project: anonymous callers see only the public package.
    const pub = await read(openGroup, 'packages.json', { token: null });
    expect([pub.status, pub.json()['available-packages']]).toEqual([200, ['open/public']]);
    expect((await read(openGroup, 'p2/open/secret.json', { token: null })).status).toBe(404);
    expect((await read(openGroup, 'p2/open/public.json', { token: null })).status).toBe(200);
    expect((await read(openGroup, 'packages.json')).json()['available-packages']).toEqual(['open/public', 'open/secret']);

    // Publishing needs developer access and a write scope.
    expect((await upload(lib, archive('acme/auth'), { version: '1.0.0' }, null)).status).toBe(401);
    expect((await upload(lib, archive('acme/auth'), { version: '1.0.0' }, guest.token)).status).toBe(403);
    expect((await upload(lib, archive('acme/auth'), { version: '1.0.0' }, outsider.token)).status).toBe(404);
    const writer = await s.api.createDeployToken({ project: lib.id }, ['write_package_registry']);
    const viaDeploy = await publish(
      lib,
      [
        { name: 'version', value: '1.0.0' },
        { name: 'file', value: archive('acme/auth'), fileName: 'a.zip' },
      ],
      {
        token: null,
        headers: { 'deploy-token': writer.token },
      },
    );
    expect(viaDeploy.status).toBe(201);

    // The archive download is project-scoped: outsiders 404, anonymous 401.
    const [v] = (await read(group, 'p2/acme/auth.json')).json().packages['acme/auth'];
    const path = new URL(v.dist.url).pathname + new URL(v.dist.url).search;
    expect((await s.api.inject({ url: path })).status).toBe(401);
    expect((await s.api.inject({ url: path, token: outsider.token })).status).toBe(404);
    expect((await s.api.inject({ url: path, token: guest.token })).status).toBe(200);
  });
});
