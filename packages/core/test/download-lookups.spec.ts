import { randomBytes } from 'node:crypto';

import { http, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { DownloadLookups } from '../src/packages/download-lookups';
import { genericFormat, genericPath } from './generic-fixture';

describe('DownloadLookups', () => {
  it('disabled (PostgreSQL mode), loads every time', async () => {
    const lookups = new DownloadLookups({ enabled: false });
    let loads = 0;
    const load = async () => ++loads;
    expect([await lookups.get('a', load), await lookups.get('a', load)]).toEqual([1, 2]);
  });

  it('answers a key from memory after the first load', async () => {
    const lookups = new DownloadLookups({ enabled: true });
    let loads = 0;
    const load = async () => ++loads;
    expect([await lookups.get('a', load), await lookups.get('a', load)]).toEqual([1, 1]);
  });

  it('forgets everything on a change', async () => {
    const lookups = new DownloadLookups({ enabled: true });
    let loads = 0;
    const load = async () => ++loads;
    await lookups.get('a', load);
    lookups.changed();
    expect(await lookups.get('a', load)).toBe(2);
  });

  it('does not keep a value whose load began before a change ended', async () => {
    const lookups = new DownloadLookups({ enabled: true });
    let release!: (v: string) => void;
    const first = lookups.get('a', () => new Promise<string>((r) => (release = r)));
    lookups.changed();
    release('read before the change');
    expect(await first).toBe('read before the change');
    expect(await lookups.get('a', async () => 'read after')).toBe('read after');
  });

  it('stays within its byte bound, dropping the least recently used', async () => {
    const lookups = new DownloadLookups({ enabled: true, maxBytes: 2 * 300 });
    for (const k of ['a', 'b', 'c']) await lookups.get(k, async () => k);
    expect(await lookups.get('a', async () => 'loaded again')).toBe('loaded again');
  });
});

// The embedded database keeps download lookups in memory (PostgreSQL mode reads them each time):
// every change through the API shows on the next download, whichever mode.
describe.each(testModes())('downloads after changes (%s)', (mode) => {
  let s: TestServer;
  let token: string;
  let project: number;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode });
    token = s.rootToken;
    project = (await s.api.createProject('changes', { visibility: 'private' })).id;
  });
  afterAll(() => s?.close());

  it('a new upload of the same file, a hidden package and a deleted one show at once', async () => {
    const path = genericPath(project, 'app/1.0.0/app.bin');
    const missing = await http(s.url, { path, token });
    expect([missing.status, missing.text]).toEqual([404, '{"message":"404 Package Not Found"}']);
    const first = randomBytes(1000);
    expect((await http(s.url, { method: 'PUT', path, token, body: first })).status).toBe(201);
    expect((await http(s.url, { path, token })).body.equals(first)).toBe(true);

    const second = randomBytes(1000);
    expect((await http(s.url, { method: 'PUT', path, token, body: second })).status).toBe(201);
    expect((await http(s.url, { path, token })).body.equals(second)).toBe(true);

    const other = genericPath(project, 'app/1.0.0/other.bin');
    const absent = await http(s.url, { path: other, token });
    expect([absent.status, absent.text]).toEqual([404, '{"message":"404 Package file Not Found"}']);
    expect((await http(s.url, { method: 'PUT', path: other, token, body: first })).status).toBe(201);
    expect((await http(s.url, { path: other, token })).body.equals(first)).toBe(true);

    expect((await http(s.url, { method: 'PUT', path: `${path}?status=hidden`, token, body: second })).status).toBe(201);
    const [pkg] = JSON.parse((await http(s.url, { path: `/api/v4/projects/${project}/packages?package_name=app`, token })).text);
    expect(pkg).toBeUndefined();

    const listed = JSON.parse(
      (await http(s.url, { path: `/api/v4/projects/${project}/packages?package_name=app&status=hidden`, token })).text,
    ) as { id: number }[];
    expect(listed).toHaveLength(1);
    expect((await http(s.url, { method: 'DELETE', path: `/api/v4/projects/${project}/packages/${listed[0].id}`, token })).status).toBe(204);
    const gone = await http(s.url, { path, token });
    expect([gone.status, gone.text]).toEqual([404, '{"message":"404 Package Not Found"}']);
  });
});
