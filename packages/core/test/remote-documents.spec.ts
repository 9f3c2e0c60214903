import { randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { type FaultProxy, startFaultProxy, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { fixtureFormat, fixturePath } from './remote-fixture';
import { remoteState, sha256, startEtagHttp, startUpstream, type TestUpstream, UpstreamTree } from './remote-support';

// Upstream metadata documents (the fixture's index.json), as a client sees them: fetched and
// kept in the database, revalidated once metadata_ttl is over (If-Modified-Since with plain
// python3 http.server, If-None-Match with one that sends ETags), served stale with a warning
// header when the upstream is down or failing, and a 502/504 when there is no copy to serve.

const STALE = '111 stowage "Revalidation Failed"';

describe.each(testModes())('remote documents (%s)', (mode) => {
  let s: TestServer;
  let up: TestUpstream;
  let n = 0;
  const fresh = () => `doc${++n}`;
  const index = (name: string) => s.api.inject({ url: fixturePath('instance', `${name}/index.json`), token: s.rootToken });
  const statuses = (proxy: FaultProxy, path: string) => proxy.requests.filter((r) => r.path === path).map((r) => r.status);

  beforeAll(async () => {
    up = await startUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      config: {
        formats: {
          // metadata_ttl 0: every read revalidates, so each test sees the upstream's answer.
          fixture: {
            package_requests_forwarding: true,
            upstream: { url: up.proxy.url, timeout: 2, metadata_ttl: 0, max_metadata_size: 4096 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });
  afterEach(() => up.proxy.reset());

  it('revalidates with If-Modified-Since: a 304 keeps the revision, a changed document makes a new one', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': Buffer.from('one') });
    const first = await index(name);
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({ source: 'upstream', files: [{ name: 'a.bin', sha256: sha256('one') }] });

    const second = await index(name);
    expect(second.status).toBe(200);
    expect(second.json().revision).toBe(first.json().revision);
    expect(second.headers.warning).toBeUndefined();
    expect(statuses(up.proxy, `/${name}/index.json`)).toEqual([200, 304]);

    await up.tree.publish(name, { 'a.bin': Buffer.from('one'), 'b.bin': Buffer.from('two') });
    // http.server compares whole seconds: date the new index a minute later.
    const later = new Date(Date.now() + 60_000);
    await utimes(join(up.tree.dir, name, 'index.json'), later, later);
    const third = await index(name);
    expect(third.json().revision).not.toBe(first.json().revision);
    expect(third.json().files.map((f: { name: string }) => f.name)).toEqual(['a.bin', 'b.bin']);
    expect(statuses(up.proxy, `/${name}/index.json`)).toEqual([200, 304, 200]);
  });

  it('an unchanged document answered again in full (a new date, the same bytes) keeps its revision', async () => {
    const name = fresh();
    await up.tree.publish(name, { 'a.bin': Buffer.from('same') });
    const first = await index(name);
    const later = new Date(Date.now() + 60_000);
    await utimes(join(up.tree.dir, name, 'index.json'), later, later);
    const second = await index(name);
    expect(statuses(up.proxy, `/${name}/index.json`)).toEqual([200, 200]);
    expect(second.json()).toEqual(first.json());
  });

  it('serves the stored copy with a warning when the upstream is down, or answers 5xx, or too slowly', async () => {
    const name = fresh();
    // After a failure the server serves its copy for a few seconds without asking again, so
    // each case uses a document of its own.
    const cases: [string, (path: string) => Promise<void> | void][] = [
      ['down', () => up.proxy.down()],
      ['5xx', (path) => up.proxy.status(path, 503)],
      ['slow', (path) => up.proxy.delay(6_000, path)],
    ];
    for (const [what, fault] of cases) {
      const doc = `${name}-${what}`;
      await up.tree.publish(doc, { 'a.bin': Buffer.from(what) });
      const ok = await index(doc);
      expect(ok.status).toBe(200);
      await fault(`/${doc}/index.json`);
      const stale = await index(doc);
      expect({ what, status: stale.status, warning: stale.headers.warning }).toEqual({ what, status: 200, warning: STALE });
      expect(stale.json()).toEqual(ok.json());
      await up.proxy.reset();
    }
  });

  it('with no stored copy: 502 when the upstream is down or failing, 504 when it is too slow; nothing is kept', async () => {
    const before = await remoteState(s);
    const down = fresh();
    await up.tree.publish(down, { 'a.bin': Buffer.from('x') });
    await up.proxy.down();
    const res = await index(down);
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/^502 Bad Gateway - upstream: cannot be reached/);
    await up.proxy.reset();

    const failing = fresh();
    await up.tree.publish(failing, { 'a.bin': Buffer.from('x') });
    up.proxy.status(`/${failing}/index.json`, 500);
    expect((await index(failing)).status).toBe(502);

    const slow = fresh();
    await up.tree.publish(slow, { 'a.bin': Buffer.from('x') });
    up.proxy.delay(6_000, `/${slow}/index.json`);
    expect((await index(slow)).status).toBe(504);

    const stalled = fresh();
    await up.tree.publish(stalled, { 'a.bin': Buffer.from('x') });
    up.proxy.stallBody(`/${stalled}/index.json`, 10);
    expect((await index(stalled)).status).toBe(504);

    expect((await remoteState(s)).documents).toEqual(before.documents);
  });

  it('a document above max_metadata_size is a 502 and is not kept; one that is no index is a 502', async () => {
    const before = await remoteState(s);
    const big = fresh();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 60; i++) files[`file-${i}.bin`] = randomBytes(8);
    await up.tree.publish(big, files);
    const res = await index(big);
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/exceeds 4096 bytes/);
    expect((await remoteState(s)).documents).toEqual(before.documents);

    const junk = fresh();
    await up.tree.writeIndex(junk, '<html>not json</html>');
    expect((await index(junk)).status).toBe(502);
  });

  it('an upstream 404 is a 404', async () => {
    const res = await index(fresh());
    expect(res.status).toBe(404);
  });
});

describe('remote documents revalidated with If-None-Match', () => {
  let s: TestServer;
  let tree: UpstreamTree;
  let etag: { url: string; stop(): Promise<void> };
  let proxy: FaultProxy;

  beforeAll(async () => {
    tree = await UpstreamTree.create();
    etag = await startEtagHttp(tree.dir);
    proxy = await startFaultProxy(etag.url);
    s = await startTestServer({
      formats: [fixtureFormat],
      mode: testModes()[0],
      config: { formats: { fixture: { package_requests_forwarding: true, upstream: { url: proxy.url, metadata_ttl: 0 } } } },
    });
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await etag?.stop();
    await tree?.remove();
  });

  it('sends the stored ETag; the 304 keeps the revision', async () => {
    await tree.publish('tagged', { 'a.bin': Buffer.from('a') });
    const url = fixturePath('instance', 'tagged/index.json');
    const first = await s.api.inject({ url, token: s.rootToken });
    const second = await s.api.inject({ url, token: s.rootToken });
    expect(second.json().revision).toBe(first.json().revision);
    // The server answers 304 only to the ETag it gave.
    expect(proxy.requests.map((r) => r.status)).toEqual([200, 304]);
  });
});
