import { randomBytes } from 'node:crypto';

import { startTestServer, testModes, type TestServer, waitFor } from '@stowage/testkit';

import { fixtureFormat, fixturePath } from './remote-fixture';
import { remoteState, sha256, startUpstream, streamedGet, type TestUpstream } from './remote-support';

// Files from an upstream (python3 -m http.server behind a fault proxy), as a client sees them:
// fetched once, verified against the digest the upstream's index declares, cached as blobs,
// streamed while written above packages.remote_cache.stream_threshold; every upstream failure
// a 502 or 504 that leaves nothing behind.

const KiB = 1024;
const THRESHOLD = 64 * KiB;
const MAX_FILE = 3 * 1024 * KiB;

describe.each(testModes())('remote files (%s)', (mode) => {
  let s: TestServer;
  let up: TestUpstream;
  const small = randomBytes(10 * KiB);
  const large = randomBytes(2 * 1024 * KiB);
  let n = 0;
  /** A fresh package name per test, so no test sees another's cache. */
  const fresh = () => `pkg${++n}`;
  const get = (name: string, file: string) => s.api.inject({ url: fixturePath('instance', `${name}/files/${file}`), token: s.rootToken });
  const url = (name: string, file: string) => `${s.url}${fixturePath('instance', `${name}/files/${file}`)}`;

  beforeAll(async () => {
    up = await startUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      listen: true,
      config: {
        formats: {
          fixture: { package_requests_forwarding: true, max_file_size: MAX_FILE, upstream: { url: up.proxy.url, timeout: 2 } },
        },
        packages: { remote_cache: { stream_threshold: THRESHOLD } },
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });
  afterEach(() => up.proxy.reset());

  it('fetches a file once, verifies and keeps it; the next download is a hit the upstream never sees', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': small });
    const first = await get(name, 'a.bin');
    expect(first.status).toBe(200);
    expect(first.rawPayload.equals(small)).toBe(true);
    expect(first.headers['content-disposition']).toContain('a.bin');

    const again = await get(name, 'a.bin');
    expect(again.status).toBe(200);
    expect(again.rawPayload.equals(small)).toBe(true);
    expect(again.headers.etag).toBe(`"${sha256(small)}"`);
    expect(up.count(`/${name}/a.bin`)).toBe(1);
    expect(up.count(`/${name}/index.json`)).toBe(1);

    const { files, blobs } = await remoteState(s);
    expect(files.filter((f) => f.package_name === name)).toEqual([
      expect.objectContaining({ file_name: 'a.bin', url: `${up.proxy.url}/${name}/a.bin`, file_sha256: sha256(small), size: small.length }),
    ]);
    expect(blobs).toContainEqual({ sha256: sha256(small), orphaned: false });
  });

  it('a file unknown upstream is a 404, an unknown name too, and neither is kept', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': small });
    expect((await get(name, 'nope.bin')).status).toBe(404);
    expect((await get(fresh(), 'a.bin')).status).toBe(404);
    // The index names a file the upstream does not have.
    const ghost = fresh();
    await up.tree.writeIndex(ghost, JSON.stringify({ files: [{ name: 'gone.bin', sha256: sha256('x') }] }));
    expect((await get(ghost, 'gone.bin')).status).toBe(404);
    expect((await remoteState(s)).files.filter((f) => f.package_name === ghost)).toEqual([]);
  });

  it.each([
    ['below the stream threshold', small],
    ['above it', large],
  ])('a file whose bytes do not match the declared digest (%s) is a 502 and leaves no blob, row or stored file', async (_what, bytes) => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': bytes });
    const before = await remoteState(s);
    up.proxy.corrupt(`/${name}/a.bin`);

    if (bytes === small) {
      const res = await get(name, 'a.bin');
      expect(res.status).toBe(502);
      expect(res.json().message).toMatch(/does not match the sha256/);
    } else {
      // Streamed: the client has its headers (200) before the digest can be known, and the
      // answer is cut before its last byte.
      const dl = streamedGet(url(name, 'a.bin'), s.rootToken);
      const done = await dl.done;
      expect(done.status).toBe(200);
      expect(done.complete).toBe(false);
      expect(done.body.length).toBeLessThan(bytes.length);
    }
    await waitFor('the corrupted copy to be released', async () => (await remoteState(s)).keys.length === before.keys.length);
    const after = await remoteState(s);
    expect(after.files).toEqual(before.files);
    expect(after.blobs).toEqual(before.blobs);
    expect(after.keys).toEqual(before.keys);

    // The upstream heals: the next download fetches again and keeps the right bytes.
    await up.proxy.reset();
    const ok = await get(name, 'a.bin');
    expect(ok.status).toBe(200);
    expect(ok.rawPayload.equals(bytes)).toBe(true);
    expect(up.count(`/${name}/a.bin`)).toBe(2);
  });

  it.each([
    ['below the stream threshold', small],
    ['above it', large],
  ])('20 concurrent downloads of an uncached file (%s) make one upstream request', async (_what, bytes) => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': bytes });
    const results = await Promise.all(Array.from({ length: 20 }, () => streamedGet(url(name, 'a.bin'), s.rootToken).done));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      expect(sha256(r.body)).toBe(sha256(bytes));
    }
    expect(up.count(`/${name}/a.bin`)).toBe(1);
    expect(up.count(`/${name}/index.json`)).toBe(1);
  });

  it('streams a file above the threshold to the client while the upstream is still sending it', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': large });
    const gate = up.proxy.gate(`/${name}/a.bin`, 512 * KiB);
    const dl = streamedGet(url(name, 'a.bin'), s.rootToken);
    await gate.reached;
    // The upstream is held after 512 KiB; the client already has bytes of it.
    await waitFor('the first bytes at the client', () => dl.received() > 0);
    expect((await dl.headers).status).toBe(200);
    expect((await dl.headers).headers['content-length']).toBe(String(large.length));
    expect(dl.received()).toBeLessThan(512 * KiB);
    expect((await remoteState(s)).files.filter((f) => f.package_name === name)).toEqual([]);
    gate.release();
    const done = await dl.done;
    expect(done.complete).toBe(true);
    expect(done.body.equals(large)).toBe(true);
    await waitFor('the cached row', async () => (await remoteState(s)).files.some((f) => f.package_name === name));
  });

  it('a client that gives up on a streamed download still leaves a verified cached copy', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': large });
    const gate = up.proxy.gate(`/${name}/a.bin`, 512 * KiB);
    const dl = streamedGet(url(name, 'a.bin'), s.rootToken);
    await gate.reached;
    await waitFor('the first bytes at the client', () => dl.received() > 0);
    dl.abort();
    expect((await dl.done.catch(() => ({ complete: false }))).complete).toBe(false);
    gate.release();
    await waitFor('the cached row', async () => (await remoteState(s)).files.some((f) => f.package_name === name));

    const again = await get(name, 'a.bin');
    expect(again.status).toBe(200);
    expect(again.rawPayload.equals(large)).toBe(true);
    expect(up.count(`/${name}/a.bin`)).toBe(1);
  });

  it('a file above max_file_size is a 502 and nothing is kept', async () => {
    const name = fresh();
    const huge = randomBytes(MAX_FILE + 1);
    await up.tree.publish(name, { 'a.bin': huge });
    const before = await remoteState(s);
    const res = await get(name, 'a.bin');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/max_file_size/);
    const after = await remoteState(s);
    expect(after.files).toEqual(before.files);
    expect(after.keys).toEqual(before.keys);
  });

  it('an upstream that does not answer in time is a 504, one that is down a 502, one failing a 502: never a 500', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': small, 'b.bin': large });
    // The index is fetched (and fresh for metadata_ttl) before the file requests fail.
    expect((await s.api.inject({ url: fixturePath('instance', `${name}/index.json`), token: s.rootToken })).status).toBe(200);

    up.proxy.delay(6_000, `/${name}/a.bin`);
    const slow = await get(name, 'a.bin');
    expect(slow.status).toBe(504);
    expect(slow.json().message).toMatch(/timeout/);

    await up.proxy.reset();
    up.proxy.stallBody(`/${name}/a.bin`, 1024);
    const stalled = await get(name, 'a.bin');
    expect(stalled.status).toBe(504);

    await up.proxy.reset();
    up.proxy.status(`/${name}/a.bin`, 503);
    const failing = await get(name, 'a.bin');
    expect(failing.status).toBe(502);
    expect(failing.json().message).toMatch(/503/);

    await up.proxy.reset();
    await up.proxy.down();
    const down = await get(name, 'a.bin');
    expect(down.status).toBe(502);
    expect(down.json().message).toMatch(/cannot be reached/);

    // A streamed file whose upstream stalls mid-body is cut, not completed.
    await up.proxy.reset();
    up.proxy.stallBody(`/${name}/b.bin`, 512 * KiB);
    const cut = await streamedGet(url(name, 'b.bin'), s.rootToken).done;
    expect(cut.complete).toBe(false);

    expect((await remoteState(s)).files.filter((f) => f.package_name === name)).toEqual([]);
    await up.proxy.reset();
    expect((await get(name, 'a.bin')).status).toBe(200);
  });
});
