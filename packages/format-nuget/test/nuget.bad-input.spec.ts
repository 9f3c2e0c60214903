import { buildZip, filesUnder, http, multipart, startTestServer, testModes, type TestProject, type TestServer } from '@stowage/testkit';

import { nugetFormat } from '../src';
import { FEED_PAGE } from '../src/nuget.v2.controller';
import { nuspecXml } from './nuget.fixtures';

// Hostile input and leaky links through the listening server.
describe.each(testModes())('NuGet bad input (%s)', (mode) => {
  let s: TestServer;
  let project: TestProject;

  const base = () => `/api/v4/projects/${project.id}/packages/nuget`;
  const nupkg = (id: string, version: string, description?: string) =>
    buildZip({ [`${id}.nuspec`]: nuspecXml(id, version, '', { description }), 'content/a.txt': `${id} ${version}\n` });
  const push = (bytes: Buffer) => {
    const { body, contentType } = multipart([{ name: 'package', value: bytes, fileName: 'package.nupkg' }]);
    return http(s.url, {
      method: 'PUT',
      path: `${base()}/`,
      body,
      headers: { 'content-type': contentType, 'x-nuget-apikey': s.rootToken },
    });
  };
  const listing = async () =>
    (await s.api.root<{ name: string; version: string }[]>('GET', `/api/v4/projects/${project.id}/packages?per_page=100`)).map(
      (p) => `${p.name}@${p.version}`,
    );

  beforeAll(async () => {
    s = await startTestServer({ formats: [nugetFormat], mode, listen: true });
    project = await s.api.createProject('lib');
  });
  afterAll(() => s?.close());

  it('a .nuspec holding a NUL is a 400, nothing stored; a NUL character reference is kept as written', async () => {
    const before = await filesUnder(s.storagePath);
    const res = await push(await nupkg('Acme.Nul', '1.0.0', 'a\0b'));
    expect([res.status, res.json()]).toEqual([
      400,
      { message: '400 Bad request - nuspec file is not valid XML: it contains a NUL character' },
    ]);
    expect(await filesUnder(s.storagePath)).toEqual(before);
    expect(await listing()).toEqual([]);
    // The recovering read keeps an unusable reference as text, as Nokogiri does: no NUL reaches the database.
    expect((await push(await nupkg('Acme.Nul', '1.0.1', 'a&#0;b'))).status).toBe(201);
    // So is a reference to half of a surrogate pair (jsonb cannot store one; it was a 500).
    expect((await push(await nupkg('Acme.Nul', '1.0.2', 'a&#xD800;b'))).status).toBe(201);
  });

  it("the v2 feed's next link carries the query but no credential, however the parameter is spelled", async () => {
    for (let i = 0; i <= FEED_PAGE; i++) expect((await push(await nupkg('Acme.Many', `1.0.${i}`))).status).toBe(201);
    for (const param of ['private_token', 'private%5Ftoken', '%70rivate_token']) {
      const res = await http(s.url, { path: `${base()}/v2/FindPackagesById()?id='acme.many'&${param}=${s.rootToken}&x=1` });
      expect(res.status).toBe(200);
      const next = /<link rel="next" href="([^"]+)"\/>/.exec(res.text)?.[1].replace(/&amp;/g, '&');
      expect(next).toBeDefined();
      expect(next).not.toContain(s.rootToken);
      const url = new URL(next!);
      expect([...url.searchParams.keys()]).toEqual(['id', 'x', '$skip']);
      expect(url.searchParams.get('$skip')).toBe(String(FEED_PAGE));
      // Followed with credentials of its own, it serves the rest.
      const rest = await http(s.url, { path: url.pathname + url.search, token: s.rootToken });
      expect(rest.text.match(/<entry>/g)).toHaveLength(1);
    }
  });
});
