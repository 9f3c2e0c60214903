import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { startTestServer, testModes, type TestServer, type TestUser, waitFor } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { BlobCollector, FileStorage, PackageService } from '../src';
import { FIXTURE, fixtureFormat, fixturePath } from './remote-fixture';
import { remoteState, sha256, startUpstream, type TestUpstream } from './remote-support';

// The admin API over what the upstream caches hold (GET/DELETE /api/v4/packages/remote_files,
// DELETE /:id, POST /prune): where each file came from, when, its size; removing one marks its
// blob orphaned, and the blob collector then removes the bytes.

const API = '/api/v4/packages/remote_files';

describe.each(testModes())('remote files admin API (%s)', (mode) => {
  let s: TestServer;
  let up: TestUpstream;
  let dev: TestUser;
  const files = {
    alpha: { 'a1.bin': randomBytes(1000), 'a2.bin': randomBytes(2000) },
    beta: { 'b1.bin': randomBytes(3000) },
  };
  const download = (name: string, file: string) =>
    s.api.inject({ url: fixturePath('instance', `${name}/files/${file}`), token: s.rootToken });
  /** As root unless a token is given; `null` is anonymous. */
  const api = (method: 'GET' | 'DELETE' | 'POST', path = '', token: string | null = s.rootToken, payload?: object) =>
    s.api.inject({ method, url: `${API}${path}`, token: token ?? undefined, payload });
  const sql = (query: string, params: unknown[] = []) => s.app.get(DataSource).query(query, params);
  /** Downloads every fixture file so the cache holds all three. */
  const fill = async () => {
    for (const [name, list] of Object.entries(files))
      for (const file of Object.keys(list)) expect((await download(name, file)).status).toBe(200);
  };

  beforeAll(async () => {
    up = await startUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      // Collection is driven by the test (collect(0)), never by the hourly job.
      config: { formats: { fixture: { package_requests_forwarding: true, upstream: { url: up.proxy.url } } } },
    });
    for (const [name, list] of Object.entries(files)) await up.tree.publish(name, list);
    dev = await s.api.createUser('dev');
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });
  beforeEach(async () => {
    expect((await api('DELETE')).status).toBe(200);
    await s.app.get(BlobCollector).collect(0);
    await fill();
  });

  it('lists each cached file with its origin, size and times, filtered and paginated', async () => {
    const res = await api('GET');
    expect(res.status).toBe(200);
    expect(res.headers['x-total']).toBe('3');
    const list = res.json();
    expect(list.map((f: { file_name: string }) => f.file_name).sort()).toEqual(['a1.bin', 'a2.bin', 'b1.bin']);
    const a1 = list.find((f: { file_name: string }) => f.file_name === 'a1.bin');
    expect(a1).toEqual({
      id: expect.any(Number),
      package_type: FIXTURE,
      package_name: 'alpha',
      version: null,
      file_name: 'a1.bin',
      size: 1000,
      file_sha256: sha256(files.alpha['a1.bin']),
      upstream_url: `${up.proxy.url}/alpha/a1.bin`,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      last_downloaded_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const alpha = await api('GET', `?package_type=${FIXTURE}&package_name=alpha`);
    expect(
      alpha
        .json()
        .map((f: { file_name: string }) => f.file_name)
        .sort(),
    ).toEqual(['a1.bin', 'a2.bin']);
    const page = await api('GET', '?per_page=2&page=2');
    expect(page.json()).toHaveLength(1);
    expect(page.headers['x-total-pages']).toBe('2');

    expect((await api('GET', '?package_name=alpha')).status).toBe(400);
    expect((await api('GET', '?package_type=nonesuch')).status).toBe(400);
  });

  it('a download of a cached file moves its last_downloaded_at', async () => {
    await sql(`UPDATE remote_files SET last_used_at = now() - interval '3 days'`);
    const old = (await api('GET', `?package_type=${FIXTURE}&package_name=beta`)).json()[0].last_downloaded_at;
    expect((await download('beta', 'b1.bin')).status).toBe(200);
    await waitFor('the new last download time', async () => {
      const now = (await api('GET', `?package_type=${FIXTURE}&package_name=beta`)).json()[0].last_downloaded_at;
      return Date.parse(now) > Date.parse(old) + 86_400_000;
    });
  });

  it('is for administrators only', async () => {
    for (const [method, path] of [
      ['GET', ''],
      ['DELETE', ''],
      ['DELETE', '/1'],
      ['POST', '/prune'],
    ] as const) {
      expect({ method, path, status: (await api(method, path, dev.token)).status }).toEqual({ method, path, status: 403 });
      expect({ method, path, status: (await api(method, path, null)).status }).toEqual({ method, path, status: 401 });
    }
    expect((await remoteState(s)).files).toHaveLength(3);
  });

  it('removing one file orphans its blob, the collector removes its bytes, and the next download fetches it again', async () => {
    const before = await remoteState(s);
    const target = before.files.find((f) => f.file_name === 'b1.bin')!;
    expect((await api('DELETE', `/${target.id}`)).status).toBe(204);
    expect((await api('DELETE', `/${target.id}`)).status).toBe(404);
    expect((await api('DELETE', '/nope')).status).toBe(404);

    const removed = await remoteState(s);
    expect(removed.files.map((f) => f.file_name).sort()).toEqual(['a1.bin', 'a2.bin']);
    expect(removed.blobs).toContainEqual({ sha256: target.file_sha256, orphaned: true });
    expect(await s.app.get(BlobCollector).collect(0)).toBe(1);
    const collected = await remoteState(s);
    expect(collected.blobs.map((b) => b.sha256)).not.toContain(target.file_sha256);
    expect(collected.keys).toHaveLength(before.keys.length - 1);

    const fetches = up.count('/beta/b1.bin');
    const again = await download('beta', 'b1.bin');
    expect(again.status).toBe(200);
    expect(again.rawPayload.equals(files.beta['b1.bin'])).toBe(true);
    expect(up.count('/beta/b1.bin')).toBe(fetches + 1);
  });

  it('removing a name removes its files and its metadata, so both are fetched again; other names stay', async () => {
    const res = await api('DELETE', `?package_type=${FIXTURE}&package_name=alpha`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ removed_files: 2, removed_bytes: 3000 });
    const state = await remoteState(s);
    expect(state.files.map((f) => f.package_name)).toEqual(['beta']);
    expect(state.documents.map((d) => d.url)).toEqual([`${up.proxy.url}/beta/index.json`]);

    const indexFetches = up.count('/alpha/index.json');
    expect((await download('alpha', 'a1.bin')).status).toBe(200);
    expect(up.count('/alpha/index.json')).toBe(indexFetches + 1);
  });

  it('a cached file whose bytes a package also holds keeps its blob when removed', async () => {
    const shared = randomBytes(500);
    const own = randomBytes(600);
    await up.tree.publish('gamma', { 'shared.bin': shared, 'own.bin': own });
    for (const file of ['shared.bin', 'own.bin']) expect((await download('gamma', file)).status).toBe(200);
    const project = await s.api.createProject('local');
    const blob = await s.app.get(FileStorage).store(Readable.from([shared]));
    await s.app.get(PackageService).write(
      async (w) => {
        const { pkg } = await w.upsertPackage({ projectId: project.id, packageType: FIXTURE, name: 'mine', version: '1.0.0' });
        await w.addFile(pkg, { fileName: 'shared.bin', blob });
      },
      { blobs: [blob] },
    );
    expect((await api('DELETE', `?package_type=${FIXTURE}&package_name=gamma`)).json()).toEqual({ removed_files: 2, removed_bytes: 1100 });
    expect(await s.app.get(BlobCollector).collect(0)).toBe(1);
    const state = await remoteState(s);
    expect(state.blobs).toContainEqual({ sha256: sha256(shared), orphaned: false });
    expect(state.blobs.map((b) => b.sha256)).not.toContain(sha256(own));
  });

  it('prunes by size, least recently downloaded first, and by days unused', async () => {
    // Last downloads: b1 an hour ago, a1 two hours ago, a2 three.
    for (const [file, hours] of [
      ['b1.bin', 1],
      ['a1.bin', 2],
      ['a2.bin', 3],
    ] as const)
      await sql(`UPDATE remote_files SET last_used_at = now() - make_interval(hours => $2) WHERE file_name = $1`, [file, hours]);

    // 4000 bytes kept: b1 (3000) and a1 (1000); a2 goes.
    const bySize = await api('POST', '/prune?max_size=4000');
    expect(bySize.status).toBe(200);
    expect(bySize.json()).toEqual({ removed_files: 1, removed_bytes: 2000 });
    expect((await remoteState(s)).files.map((f) => f.file_name).sort()).toEqual(['a1.bin', 'b1.bin']);

    await sql(`UPDATE remote_files SET last_used_at = now() - interval '10 days' WHERE file_name = 'a1.bin'`);
    const byAge = await api('POST', '/prune', s.rootToken, { max_unused_days: 5 });
    expect(byAge.json()).toEqual({ removed_files: 1, removed_bytes: 1000 });
    expect((await remoteState(s)).files.map((f) => f.file_name)).toEqual(['b1.bin']);

    // Sizes past a billion bytes are sizes too.
    expect((await api('POST', '/prune?max_size=50000000000')).json()).toEqual({ removed_files: 0, removed_bytes: 0 });
    expect((await api('POST', '/prune?max_size=-1')).status).toBe(400);
    // No limit given: the configured one (20 GiB by default) holds all.
    expect((await api('POST', '/prune')).json()).toEqual({ removed_files: 0, removed_bytes: 0 });
    expect(await s.app.get(BlobCollector).collect(0)).toBe(2);
  });

  it("prunes metadata documents: the upstream's 'not found' after a day, any after max_unused_days unrevalidated", async () => {
    expect((await download('nobody-has-this', 'x.bin')).status).toBe(404);
    const before = (await remoteState(s)).documents;
    const missing = before.filter((d) => d.status !== 200);
    const found = before.filter((d) => d.status === 200);
    expect(missing.length).toBeGreaterThan(0);
    expect(found.length).toBeGreaterThan(0);

    await sql(`UPDATE remote_documents SET checked_at = now() - interval '2 days'`);
    await api('POST', '/prune');
    expect((await remoteState(s)).documents).toEqual(found);
    await api('POST', '/prune', s.rootToken, { max_unused_days: 3 });
    expect((await remoteState(s)).documents).toEqual(found);
    await api('POST', '/prune', s.rootToken, { max_unused_days: 1 });
    expect((await remoteState(s)).documents).toEqual([]);
    // Fetched again when next asked for.
    expect((await download('alpha', 'a1.bin')).status).toBe(200);
    expect((await remoteState(s)).documents.length).toBeGreaterThan(0);
  });
});
