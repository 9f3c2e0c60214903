import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { type BlobStoreKind, FileStorage } from '@stowage/core';
import {
  aliasZipEntry,
  buildZip,
  filesUnder,
  multipart,
  startTestServer,
  storedBlobKeys,
  testModes,
  type TestProject,
  type TestServer,
  type TestUser,
  workCpuMs,
  type ZipInput,
} from '@stowage/testkit';

import { nugetFormat } from '../src';
import { symbolFileOf } from '../src/nuget.symbols';
import { nuspecXml, portablePdb } from './nuget.fixtures';

// The NuGet feeds at the HTTP level, in both database modes: document shapes, caching
// (ETag/304, invalidation, paging), auth as GitLab answers it, and every refused push
// (each a clear status and message, nothing stored).

const MAX = 64 * 1024;

describe.each(testModes())('NuGet API (%s)', (mode) => {
  let s: TestServer;
  let dev: TestUser;
  let guest: TestUser;
  let outsider: TestUser;
  let project: TestProject;
  let open: TestProject;
  let group: { id: number };

  const base = (p: TestProject = project) => `/api/v4/projects/${p.id}/packages/nuget`;
  const basic = (u: TestUser) => ({ authorization: `Basic ${Buffer.from(`${u.username}:${u.token}`).toString('base64')}` });
  const nupkg = (id: string, version: string, extra = '', files: Record<string, string | Buffer> = {}) =>
    buildZip({ [`${id}.nuspec`]: nuspecXml(id, version, extra), 'content/a.txt': `${id} ${version}\n`, ...files });
  const push = async (bytes: Buffer, opts: { headers?: Record<string, string>; p?: TestProject; path?: string } = {}) => {
    const { body, contentType } = multipart([{ name: 'package', value: bytes, fileName: 'package.nupkg' }]);
    return s.api.inject({
      method: 'PUT',
      url: `${base(opts.p)}${opts.path ?? '/'}`,
      payload: body,
      headers: { 'content-type': contentType, ...(opts.headers ?? { 'x-nuget-apikey': dev.token }) },
    });
  };
  const listing = async (p: TestProject = project) =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${p.id}/packages`))
      .map((x) => `${x.name}@${x.version}`)
      .sort();
  const stored = () => filesUnder(join(s.dataDir, 'packages'));
  const get = (url: string, headers: Record<string, string> = {}) => s.api.inject({ url, headers });

  beforeAll(async () => {
    s = await startTestServer({
      formats: [nugetFormat],
      mode,
      listen: true,
      config: { formats: { nuget: { max_file_size: MAX, registration_page_size: 4 } } },
    });
    [dev, guest, outsider] = await Promise.all([s.api.createUser('dev'), s.api.createUser('guest'), s.api.createUser('outsider')]);
    group = await s.api.createGroup('acme');
    project = await s.api.createProject('lib', { namespaceId: group.id });
    open = await s.api.createProject('open', { visibility: 'public' });
    await s.api.addMember({ group: group.id }, dev.id, 40);
    await s.api.addMember({ group: group.id }, guest.id, 10);
    await s.api.addMember({ project: open.id }, dev.id, 40);
  });

  afterAll(async () => {
    await s?.close();
  });

  it('serves the service index anonymously, with absolute URLs and GitLab resource types', async () => {
    const r = await get(`${base()}/index.json`);
    expect(r.status).toBe(200);
    const types = r.json().resources.map((x: { '@type': string }) => x['@type']);
    expect(types).toEqual([
      'SearchQueryService',
      'SearchQueryService/3.0.0-beta',
      'SearchQueryService/3.0.0-rc',
      'RegistrationsBaseUrl',
      'RegistrationsBaseUrl/3.0.0-beta',
      'RegistrationsBaseUrl/3.0.0-rc',
      'PackageBaseAddress/3.0.0',
      'PackagePublish/2.0.0',
      'SymbolPackagePublish/4.9.0',
    ]);
    expect(r.json().resources[7]['@id']).toBe(`${s.url}${base()}`);
    expect((await get(`${base()}/index`)).status).toBe(200);
    expect((await get(`${base()}/index.xls`)).status).toBe(404);
    const g = await get(`/api/v4/groups/${group.id}/-/packages/nuget/index.json`);
    expect(g.json().resources).toHaveLength(6);
  });

  it('pushes with X-NuGet-ApiKey or Basic, challenges anonymous pushes, and refuses guests and outsiders', async () => {
    const bytes = await nupkg(
      'Acme.Core',
      '1.0.0',
      '<dependencies><group targetFramework="net6.0"><dependency id="Acme.Base" version="[1.0,2.0)"/></group><group targetFramework="netstandard2.0"/></dependencies>',
    );
    const anon = await push(bytes, { headers: {} });
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Basic realm="GitLab Packages Registry"');
    expect((await push(bytes, { headers: { 'x-nuget-apikey': 'nope' } })).status).toBe(401);
    expect((await push(bytes, { headers: basic(guest) })).status).toBe(403);
    expect((await push(bytes, { headers: basic(outsider) })).status).toBe(404);
    expect((await push(bytes)).status).toBe(201);
    expect((await push(await nupkg('Acme.Core', '1.1.0-beta.1'), { headers: basic(dev), path: '' })).status).toBe(201);
    expect(await listing()).toEqual(['Acme.Core@1.0.0', 'Acme.Core@1.1.0-beta.1']);
  });

  it('renders registration and flat container documents, cached with ETag and 304', async () => {
    const reg = await get(`${base()}/metadata/acme.core/index.json`, basic(dev));
    expect(reg.status).toBe(200);
    const doc = reg.json();
    expect(doc.count).toBe(1);
    expect(doc.items[0]).toMatchObject({ lower: '1.0.0', upper: '1.1.0-beta.1', count: 2 });
    const leaf = doc.items[0].items[0];
    expect(leaf.packageContent).toBe(`${s.url}${base()}/download/acme.core/1.0.0/acme.core.1.0.0.nupkg`);
    expect(leaf.catalogEntry).toMatchObject({ id: 'Acme.Core', version: '1.0.0', authors: 'Tester', description: 'A package' });
    expect(leaf.catalogEntry.dependencyGroups).toEqual([
      {
        '@id': `${leaf['@id']}#dependencyGroup/net6.0`,
        '@type': 'PackageDependencyGroup',
        targetFramework: 'net6.0',
        dependencies: [
          { '@id': `${leaf['@id']}#dependencyGroup/net6.0/acme.base`, '@type': 'PackageDependency', id: 'Acme.Base', range: '[1.0,2.0)' },
        ],
      },
      {
        '@id': `${leaf['@id']}#dependencyGroup/netstandard2.0`,
        '@type': 'PackageDependencyGroup',
        targetFramework: 'netstandard2.0',
        dependencies: [],
      },
    ]);
    const again = await get(`${base()}/metadata/Acme.Core/index`, { ...basic(dev), 'if-none-match': String(reg.headers.etag) });
    expect(again.status).toBe(304);
    expect((await get(`${base()}/metadata/acme.core/1.0.json`, basic(dev))).json().catalogEntry.version).toBe('1.0.0');
    expect((await get(`${base()}/download/acme.core/index.json`, basic(dev))).json()).toEqual({ versions: ['1.0.0', '1.1.0-beta.1'] });
    expect((await get(`${base()}/metadata/unknown/index.json`, basic(dev))).status).toBe(404);
    expect((await get(`${base()}/download/unknown/index.json`, basic(dev))).status).toBe(404);
    const file = await get(`${base()}/download/acme.core/1.0.0/acme.core.1.0.0.nupkg`, basic(dev));
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/octet-stream');
    expect(file.rawPayload.subarray(0, 2).toString()).toBe('PK');
    // A change shows at once: the cached document is keyed by the name's revision.
    expect((await push(await nupkg('Acme.Core', '1.2.0'))).status).toBe(201);
    const changed = await get(`${base()}/metadata/acme.core/index.json`, { ...basic(dev), 'if-none-match': String(reg.headers.etag) });
    expect(changed.status).toBe(200);
    expect(changed.json().items[0].upper).toBe('1.2.0');
  });

  it('pages the registration of a large package with @id links', async () => {
    for (const v of ['1.3.0', '1.4.0', '2.0.0']) expect((await push(await nupkg('Acme.Core', v))).status).toBe(201);
    const doc = (await get(`${base()}/metadata/acme.core/index.json`, basic(dev))).json();
    expect(doc.count).toBe(2);
    expect(
      doc.items.map((p: { lower: string; upper: string; count: number; items?: unknown }) => [p.lower, p.upper, p.count, p.items]),
    ).toEqual([
      ['1.0.0', '1.3.0', 4, undefined],
      ['1.4.0', '2.0.0', 2, undefined],
    ]);
    const page = await get(new URL(doc.items[1]['@id']).pathname, basic(dev));
    expect(page.status).toBe(200);
    expect(page.json().items.map((l: { catalogEntry: { version: string } }) => l.catalogEntry.version)).toEqual(['1.4.0', '2.0.0']);
    expect(page.json().parent).toBe(doc['@id']);
  });

  it('searches projects and groups; the group feed asks anonymous callers to log in', async () => {
    const r = (await get(`${base()}/query?q=core&prerelease=false`, basic(dev))).json();
    expect(r.totalHits).toBe(1);
    expect(r.data[0]).toMatchObject({ '@type': 'Package', id: 'Acme.Core', version: '2.0.0', authors: 'Tester' });
    expect(r.data[0].versions.map((v: { version: string }) => v.version)).not.toContain('1.1.0-beta.1');
    expect((await get(`${base()}/query?take=-1`, basic(dev))).status).toBe(400);
    // Past what the SQL offset holds (was a 500 from PostgreSQL): a 400 naming the parameter.
    for (const param of ['skip', 'take']) {
      const huge = await get(`${base()}/query?q=core&${param}=99999999999999999999`, basic(dev));
      expect([huge.status, huge.json()]).toEqual([400, { error: `${param} is invalid` }]);
    }
    expect((await get(`${base()}/query?q=core&skip=999999999`, basic(dev))).json()).toMatchObject({ totalHits: 1, data: [] });
    const g = `/api/v4/groups/${group.id}/-/packages/nuget`;
    expect((await get(`${g}/query?q=acme`, basic(dev))).json().totalHits).toBe(1);
    expect((await get(`${g}/query?q=acme`, basic(outsider))).status).toBe(404);
    const greg = (await get(`${g}/metadata/acme.core/index.json`, basic(guest))).json();
    expect(greg.items[0]['@id']).toContain(`/groups/${group.id}/`);
    const leaf = (await get(new URL(greg.items[0]['@id']).pathname, basic(guest))).json().items[0];
    expect(leaf.packageContent).toContain(`/projects/${project.id}/packages/nuget/download/`);
    const anonOpen = await s.api.inject({ url: `/api/v4/groups/${group.id}/-/packages/nuget/query` });
    expect(anonOpen.status).toBe(401);
  });

  it('refuses bad packages with a clear 400 and stores nothing', async () => {
    const before = await stored();
    const packagesBefore = await listing();
    const cases: [string, Buffer, number, RegExp][] = [
      ['not a zip', Buffer.from('definitely not a zip file'), 400, /invalid package file/],
      ['no nuspec', await buildZip({ 'content/a.txt': 'x' }), 400, /nuspec file not found/],
      ['invalid version', await buildZip({ 'A.nuspec': nuspecXml('Acme.Bad', '01.0') }), 400, /Version is invalid/],
      ['invalid name', await buildZip({ 'A.nuspec': nuspecXml('Acme Bad', '1.0.0') }), 400, /Name is invalid/],
      ['no authors', await buildZip({ 'A.nuspec': nuspecXml('Acme.Bad', '1.0.0', '', { authors: null }) }), 400, /authors/],
      ['broken xml', await buildZip({ 'A.nuspec': '<package><metadata><id>x</id>' }), 400, /not valid XML/],
      [
        'oversize',
        await buildZip(
          {
            'A.nuspec': nuspecXml('Acme.Big', '1.0.0'),
            'big.bin': Buffer.from(Array.from({ length: MAX * 2 }, (_, i) => (i * 7919) % 251)),
          },
          { method: 0 },
        ),
        400,
        /File is too large/,
      ],
      [
        'zip bomb nuspec',
        await buildZip({ 'A.nuspec': nuspecXml('Acme.Bomb', '1.0.0', `<summary>${' '.repeat(5 * 1024 * 1024)}</summary>`) }),
        400,
        /nuspec file too big/,
      ],
    ];
    for (const [what, bytes, status, message] of cases) {
      const r = await push(bytes);
      expect({ what, status: r.status, message: message.test(r.body) ? 'ok' : r.body }).toEqual({ what, status, message: 'ok' });
    }
    const noFile = multipart([{ name: 'other', value: 'x' }]);
    const r = await s.api.inject({
      method: 'PUT',
      url: `${base()}/`,
      payload: noFile.body,
      headers: { 'content-type': noFile.contentType, 'x-nuget-apikey': dev.token },
    });
    expect(r.status).toBe(400);
    expect(await listing()).toEqual(packagesBefore);
    expect(await stored()).toEqual(before);
  });

  describe('archives a client could not unpack safely', () => {
    const symbolType = '<packageTypes><packageType name="SymbolsPackage"/></packageTypes>';
    const refusedWithNothingStored = async (bytes: Buffer, message: string, path = '/') => {
      const blobsBefore = await storedBlobKeys(s);
      const packagesBefore = await listing();
      const r = await push(bytes, { path });
      expect([r.status, r.json().message]).toEqual([400, `400 Bad request - ${message}`]);
      expect(await listing()).toEqual(packagesBefore);
      expect(await storedBlobKeys(s)).toEqual(blobsBefore);
    };
    const withEntry = (entry: ZipInput) =>
      buildZip([{ name: 'Acme.Evil.nuspec', data: nuspecXml('Acme.Evil', '1.0.0') }, { name: 'lib/net8.0/ok.dll', data: 'ok' }, entry]);

    it.each<[string, ZipInput, string]>([
      [
        'a ".." path',
        { name: 'lib/../../x', data: 'x' },
        'invalid package file: the archive entry "lib/../../x" points outside the package directory (a ".." segment)',
      ],
      [
        'an absolute path',
        { name: '/x', data: 'x' },
        'invalid package file: the archive entry "/x" points outside the package directory (an absolute path)',
      ],
      [
        'a drive path',
        { name: 'C:/x', data: 'x' },
        'invalid package file: the archive entry "C:/x" points outside the package directory (a drive path)',
      ],
      [
        'a backslash drive path',
        { name: 'C:\\x', data: 'x' },
        'invalid package file: the archive entry "C:\\\\x" has a backslash in its name',
      ],
      [
        'a backslash path',
        { name: 'lib\\net8.0\\a.dll', data: 'x' },
        'invalid package file: the archive entry "lib\\\\net8.0\\\\a.dll" has a backslash in its name',
      ],
      [
        'a symlink',
        { name: 'lib/net8.0/a.dll', data: '/etc/passwd', mode: 0o120777 },
        'invalid package file: the archive entry "lib/net8.0/a.dll" is a symbolic link',
      ],
      [
        'a second .nuspec',
        { name: 'acme.evil.NUSPEC', data: nuspecXml('Acme.Other', '6.6.6') },
        'the package holds more than one .nuspec file ("Acme.Evil.nuspec", "acme.evil.NUSPEC")',
      ],
      [
        'a name held twice',
        { name: 'lib/net8.0/ok.dll', data: 'evil' },
        'invalid package file: the archive holds "lib/net8.0/ok.dll" more than once',
      ],
    ])('refuses a package with %s, naming the entry, and stores nothing', async (_, entry, message) => {
      await refusedWithNothingStored(withEntry(entry), message);
    });

    it.each([
      ['an external entity', '<!DOCTYPE package [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'],
      [
        'billion laughs',
        `<!DOCTYPE package [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 8 }, (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${`&${i ? 'b'.repeat(i) : 'a'};`.repeat(10)}">`).join('')}]>`,
      ],
    ])('refuses a .nuspec carrying a DOCTYPE (%s)', async (_, doctype) => {
      const xml = nuspecXml('Acme.Evil', '1.0.0').replace('<package ', `${doctype}<package `);
      const at = xml.indexOf('<!DOCTYPE');
      await refusedWithNothingStored(
        buildZip({ 'Acme.Evil.nuspec': xml }),
        `nuspec file is not valid XML: DOCTYPE and ENTITY declarations are not accepted at offset ${at}`,
      );
    });

    it('refuses, quickly, a symbol package listing hundreds of entries that share one deflated 32 MiB stream', async () => {
      expect((await push(await nupkg('Acme.Shared', '1.0.0'))).status).toBe(201);
      const one = buildZip({
        'Acme.Shared.nuspec': nuspecXml('Acme.Shared', '1.0.0', symbolType),
        'lib/net8.0/a.pdb': Buffer.alloc(32 << 20),
      });
      const snupkg = aliasZipEntry(
        one,
        'lib/net8.0/a.pdb',
        Array.from({ length: 400 }, (_, i) => `lib/net8.0/copy${i}.pdb`),
      );
      expect(snupkg.length).toBeLessThan(MAX);
      const before = workCpuMs();
      await refusedWithNothingStored(snupkg, 'invalid package file: lib/net8.0/copy0.pdb: overlaps another entry', '/symbolpackage');
      const used = workCpuMs() - before;
      const seconds = used / 1000;
      process.stdout.write(`NuGet snupkg of 400 entries sharing a 32 MiB stream refused after ${seconds.toFixed(2)} s of CPU\n`);
      // It took 156 s before the reader refused overlaps (~0.05 s now). Process CPU also counts the
      // collector's threads, which a loaded run's large Jest heap kept busy for 2 s: the bound is wide.
      expect(seconds).toBeLessThan(10);
      const cleanup = await s.api.inject({
        method: 'DELETE',
        url: `${base()}/Acme.Shared/1.0.0`,
        headers: { 'x-nuget-apikey': dev.token },
      });
      expect(cleanup.status).toBe(204);
    });

    it('checks that the package exists before it reads the symbol files', async () => {
      const pdb = portablePdb('8f3c2d1e-0b4a-4c5d-9e6f-112233445566');
      const snupkg = buildZip([
        { name: 'Acme.Absent.nuspec', data: nuspecXml('Acme.Absent', '1.0.0', symbolType) },
        { name: 'lib/net8.0/a.pdb', data: pdb, method: 0 },
      ]);
      // A corrupt PDB: were it read first, its CRC mismatch would be the answer.
      snupkg[snupkg.indexOf(pdb) + 40] ^= 0xff;
      await refusedWithNothingStored(snupkg, 'symbol package is invalid, matching package does not exist', '/symbolpackage');
    });
  });

  it('allows duplicates by default (1.0 = 1.0.0) and refuses them with 409 when the setting is off', async () => {
    expect((await push(await nupkg('Acme.Dup', '1.0.0'), { p: open })).status).toBe(201);
    expect((await push(await nupkg('Acme.Dup', '1.0'), { p: open })).status).toBe(201);
    expect(await listing(open)).toEqual(['Acme.Dup@1.0.0']);
    await s.api.setPackageSettings({ project: open.id }, { nuget_duplicates_allowed: false });
    const before = await stored();
    const dup = await push(await nupkg('Acme.Dup', '1.0.0.0', '<summary>x</summary>'), { p: open });
    expect(dup.status).toBe(409);
    expect(dup.json().message).toMatch(/already exists/);
    expect(await stored()).toEqual(before);
  });

  it('takes symbol packages only for an existing package, and deletes as maintainer only', async () => {
    const sym = (id: string) =>
      buildZip({ [`${id}.nuspec`]: nuspecXml(id, '1.0.0', '<packageTypes><packageType name="SymbolsPackage"/></packageTypes>') });
    const missing = await push(await sym('Acme.Nothing'), { path: '/symbolpackage' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatch(/matching package does not exist/);
    expect((await push(await sym('Acme.Core'), { path: '/symbolpackage' })).status).toBe(201);
    expect((await s.api.inject({ method: 'DELETE', url: `${base()}/Acme.Core/1.0.0`, headers: basic(guest) })).status).toBe(403);
    expect((await s.api.inject({ method: 'DELETE', url: `${base()}/Acme.Core/1.0.0` })).status).toBe(401);
    expect(
      (await s.api.inject({ method: 'DELETE', url: `${base()}/Acme.Core/9.9.9`, headers: { 'x-nuget-apikey': dev.token } })).status,
    ).toBe(404);
    expect(
      (await s.api.inject({ method: 'DELETE', url: `${base()}/Acme.Core/1.0.0`, headers: { 'x-nuget-apikey': dev.token } })).status,
    ).toBe(204);
    expect(await listing()).not.toContain('Acme.Core@1.0.0');
  });

  it('serves PDBs of symbol packages by file name, signature and Symbolchecksum', async () => {
    expect((await push(await nupkg('Acme.Sym', '1.0.0'))).status).toBe(201);
    const pdb = portablePdb('8f3c2d1e-0b4a-4c5d-9e6f-112233445566');
    // Different bytes beyond the PDB id, so a different checksum (the id is zeroed before hashing).
    const other = Buffer.concat([portablePdb('00000000-1111-2222-3333-444444444444'), Buffer.from('other tables')]);
    const sym = await buildZip({
      'Acme.Sym.nuspec': nuspecXml('Acme.Sym', '1.0.0', '<packageTypes><packageType name="SymbolsPackage"/></packageTypes>'),
      'lib/net6.0/Acme.Sym.pdb': pdb,
      'lib/net6.0/Other.pdb': other,
    });
    expect((await push(sym, { path: '/symbolpackage' })).status).toBe(201);
    const id = symbolFileOf('Acme.Sym.pdb', pdb)!;
    expect(id.signature).toBe('8f3c2d1e0b4a4c5d9e6f112233445566ffffffff');
    const url = (file: string, sig: string, p: TestProject = project) => `${base(p)}/symbolfiles/${file}/${sig}/${file}`;
    const checksum = { symbolchecksum: `SHA256:${id.checksum}` };

    const ok = await get(url('Acme.Sym.pdb', id.signature), { ...basic(guest), ...checksum });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/octet-stream');
    expect(ok.rawPayload.equals(pdb)).toBe(true);
    // Case-insensitive file name and signature; several checksums may be listed.
    const upper = await get(url('ACME.SYM.PDB', id.signature.toUpperCase()), {
      ...basic(guest),
      symbolchecksum: `SHA256:${'0'.repeat(64)};SHA256:${id.checksum.toUpperCase()}`,
    });
    expect(upper.status).toBe(200);
    expect(upper.rawPayload.equals(pdb)).toBe(true);
    // The other PDB of the same package is served by its own id, not this one's.
    const otherId = symbolFileOf('Other.pdb', other)!;
    expect(otherId.checksum).not.toBe(id.checksum);
    expect(
      (await get(url('Other.pdb', otherId.signature), { ...basic(guest), symbolchecksum: `SHA256:${otherId.checksum}` })).rawPayload.equals(
        other,
      ),
    ).toBe(true);

    expect((await get(url('Acme.Sym.pdb', otherId.signature), { ...basic(guest), ...checksum })).status).toBe(404);
    expect((await get(url('Acme.Sym.pdb', id.signature), { ...basic(guest), symbolchecksum: `SHA256:${otherId.checksum}` })).status).toBe(
      404,
    );
    expect((await get(url('Acme.Sym.pdb', id.signature), { ...basic(guest), symbolchecksum: 'MD5:abc' })).status).toBe(404);
    const missing = await get(url('Acme.Sym.pdb', id.signature), basic(guest));
    expect(missing.status).toBe(400);
    expect(missing.json().message).toMatch(/Missing checksum header/);
    expect((await get(`${base()}/symbolfiles/Acme.Sym.pdb/${id.signature}/Other.pdb`, { ...basic(guest), ...checksum })).status).toBe(404);
    // Private project: anonymous is challenged, an outsider sees nothing; another project's URL does not serve it.
    expect((await get(url('Acme.Sym.pdb', id.signature), checksum)).status).toBe(401);
    expect((await get(url('Acme.Sym.pdb', id.signature), { ...basic(outsider), ...checksum })).status).toBe(404);
    expect((await get(url('Acme.Sym.pdb', id.signature, open), { ...basic(dev), ...checksum })).status).toBe(404);
    // The group feed finds it in the projects the caller may read.
    const g = `/api/v4/groups/${group.id}/-/packages/nuget/symbolfiles/Acme.Sym.pdb/${id.signature}/Acme.Sym.pdb`;
    expect((await get(g, { ...basic(guest), ...checksum })).rawPayload.equals(pdb)).toBe(true);
    expect((await get(g, { ...basic(outsider), ...checksum })).status).toBe(404);
  });

  it("serves the flat container's .nuspec from the stored package", async () => {
    const r = await get(`${base()}/download/acme.sym/1.0.0/acme.sym.nuspec`, basic(dev));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/xml/);
    expect(r.body).toBe(nuspecXml('Acme.Sym', '1.0.0'));
    expect((await get(`${base()}/download/acme.sym/1.0/Acme.Sym.nuspec`, basic(dev))).body).toBe(nuspecXml('Acme.Sym', '1.0.0'));
    expect(
      (await get(`${base()}/download/acme.sym/1.0.0/acme.sym.nuspec`, { ...basic(dev), 'if-none-match': String(r.headers.etag) })).status,
    ).toBe(304);
    expect((await get(`${base()}/download/acme.sym/1.0.0/other.nuspec`, basic(dev))).status).toBe(404);
    expect((await get(`${base()}/download/acme.sym/9.0.0/acme.sym.nuspec`, basic(dev))).status).toBe(404);
    expect((await get(`${base()}/download/acme.sym/1.0.0/acme.sym.nuspec`)).status).toBe(401);
  });

  it('answers 404, not 500, for the .nuspec and PDBs of a stored package that no longer opens as a zip', async () => {
    // Bytes stored before the zip reader refused them (overlapping entries) or damaged since:
    // the package downloads as stored, what must be read inside it is not there.
    const nupkgBytes = await nupkg('Acme.Rot', '1.0.0');
    const pdb = portablePdb('0badc0de-0b4a-4c5d-9e6f-112233445566');
    const sym = buildZip({
      'Acme.Rot.nuspec': nuspecXml('Acme.Rot', '1.0.0', '<packageTypes><packageType name="SymbolsPackage"/></packageTypes>'),
      'lib/net6.0/Acme.Rot.pdb': pdb,
    });
    expect((await push(nupkgBytes)).status).toBe(201);
    expect((await push(sym, { path: '/symbolpackage' })).status).toBe(201);
    const storage = s.app.get(FileStorage);
    const corrupt = async (bytes: Buffer) => {
      const blob = (await storage.blob(createHash('sha256').update(bytes).digest('hex')))!;
      const damaged = Buffer.from(bytes);
      damaged.write('XXXX', damaged.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])), 'latin1');
      await storage
        .storeIfConfigured(blob.store as BlobStoreKind)!
        .put(blob.storage_key, Readable.from([damaged]), { size: damaged.length });
    };
    const id = symbolFileOf('Acme.Rot.pdb', pdb)!;
    const pdbUrl = `${base()}/symbolfiles/Acme.Rot.pdb/${id.signature}/Acme.Rot.pdb`;
    const nuspecUrl = `${base()}/download/acme.rot/1.0.0/acme.rot.nuspec`;
    expect((await get(pdbUrl, { ...basic(dev), symbolchecksum: `SHA256:${id.checksum}` })).rawPayload.equals(pdb)).toBe(true);
    expect((await get(nuspecUrl, basic(dev))).status).toBe(200);

    await corrupt(nupkgBytes);
    await corrupt(sym);
    const nuspec = await get(nuspecUrl, basic(dev));
    expect([nuspec.status, nuspec.json().message]).toEqual([404, '404 nuspec Not Found']);
    expect(nuspec.headers.etag).toBeUndefined();
    const symbols = await get(pdbUrl, { ...basic(dev), symbolchecksum: `SHA256:${id.checksum}` });
    expect([symbols.status, symbols.json().message]).toEqual([404, '404 Symbol file Not Found']);
    const groupSymbols = `/api/v4/groups/${group.id}/-/packages/nuget/symbolfiles/Acme.Rot.pdb/${id.signature}/Acme.Rot.pdb`;
    expect((await get(groupSymbols, { ...basic(dev), symbolchecksum: `SHA256:${id.checksum}` })).status).toBe(404);
    expect(
      (await s.api.inject({ method: 'DELETE', url: `${base()}/Acme.Rot/1.0.0`, headers: { 'x-nuget-apikey': dev.token } })).status,
    ).toBe(204);
  });

  it('serves the v2 service document, $metadata, real entries (unknown ones are 404) and feeds with query options', async () => {
    expect((await get(`${base()}/v2`)).status).toBe(401);
    const root = await get(`${base()}/v2`, basic(guest));
    expect(root.status).toBe(200);
    expect(root.body).toContain('<collection href="Packages">');
    const md = await get(`${base()}/v2/$metadata`);
    expect(md.body).toContain('FunctionImport Name="FindPackagesById"');
    const entry = await get(`${base()}/v2/Packages(Id='Acme.Core',Version='1.2')`, basic(dev));
    expect(entry.status).toBe(200);
    expect(entry.headers['content-type']).toMatch(/^application\/atom\+xml/);
    expect(entry.body).toContain(
      `<content type="application/zip" src="${s.url}${base()}/download/acme.core/1.2.0/acme.core.1.2.0.nupkg"/>`,
    );
    expect(entry.body).toContain('<d:PackageHashAlgorithm>SHA512</d:PackageHashAlgorithm>');
    expect((await get(`${base()}/v2/Packages(Id='Acme.Core',Version='7.0')`, basic(dev))).status).toBe(404);
    const feed = await get(`${base()}/v2/FindPackagesById()?id='acme.core'`, basic(dev));
    expect(feed.body.match(/<entry>/g)?.length).toBe(5);
    // NuGet 2.x without -Version: the latest release only.
    const latest = await get(
      `${base()}/v2/FindPackagesById()?$filter=IsLatestVersion&$orderby=Version%20desc&$top=1&id='Acme.Core'`,
      basic(dev),
    );
    expect(latest.body.match(/<d:Version>[^<]*<\/d:Version>/g)).toEqual(['<d:Version>2.0.0</d:Version>']);
    const versions = (body: string) => [...body.matchAll(/<d:Version>([^<]*)<\/d:Version>/g)].map((m) => m[1]);
    expect(
      versions((await get(`${base()}/v2/FindPackagesById()?id='acme.core'&$orderby=Version desc&$skip=1&$top=2`, basic(dev))).body),
    ).toEqual(['1.4.0', '1.3.0']);
    expect((await get(`${base()}/v2/FindPackagesById()?id='acme.core'&$top=x`, basic(dev))).status).toBe(400);
    // The whole feed (`nuget list`), every name's versions by id.
    const all = await get(`${base()}/v2/Packages()`, basic(dev));
    expect(all.status).toBe(200);
    expect([...all.body.matchAll(/<title type="text">([^<]*)<\/title><summary/g)].map((m) => m[1])).toEqual([
      ...Array(5).fill('Acme.Core'),
      'Acme.Sym',
    ]);
    expect(all.body).not.toContain('rel="next"');
    expect(versions((await get(`${base()}/v2/Packages?$filter=IsLatestVersion`, basic(dev))).body)).toEqual(['2.0.0', '1.0.0']);
  });
});
