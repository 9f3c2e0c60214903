import { randomBytes } from 'node:crypto';

import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { fixtureFormat, fixturePath } from './remote-fixture';
import { type Redirector, remoteState, startRedirector, startUpstream, type TestUpstream } from './remote-support';

// Where Stowage goes for an upstream, and what it sends there: only the configured upstream
// and the hosts its config declares (a CDN), redirects followed only among them, and the
// configured credentials only to the upstream's own origin. Three real file servers (the
// upstream, a declared CDN, an undeclared host) and a redirecting host declared as a mirror.

describe.each(testModes())('upstream hosts and credentials (%s)', (mode) => {
  let s: TestServer;
  let origin: TestUpstream;
  let cdn: TestUpstream;
  let elsewhere: TestUpstream;
  let mirror: Redirector;
  const bytes = randomBytes(2048);
  const basic = `Basic ${Buffer.from('robot:s3cret').toString('base64')}`;
  const get = (name: string, file: string) => s.api.inject({ url: fixturePath('instance', `${name}/files/${file}`), token: s.rootToken });
  const host = (url: string) => new URL(url).host;

  beforeAll(async () => {
    [origin, cdn, elsewhere] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    // /cdn/<path> → the CDN, /elsewhere/<path> → the undeclared host, /loop/… → itself.
    mirror = await startRedirector((path, self) => {
      const [, where, ...rest] = path.split('/');
      const target = { cdn: cdn.proxy.url, elsewhere: elsewhere.proxy.url, loop: `${self}/loop` }[where] ?? self;
      return `${target}/${rest.join('/')}`;
    });
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      config: {
        formats: {
          fixture: {
            package_requests_forwarding: true,
            upstream: { url: origin.proxy.url, username: 'robot', password: 's3cret', hosts: [host(cdn.proxy.url), host(mirror.url)] },
          },
        },
      },
    });
    await cdn.tree.publish('lib', { 'lib.bin': bytes });
    await elsewhere.tree.publish('lib', { 'lib.bin': bytes });
  });
  afterAll(async () => {
    await s?.close();
    await Promise.all([origin?.close(), cdn?.close(), elsewhere?.close(), mirror?.close()]);
  });

  it('fetches a file the upstream links at a declared CDN; the credentials go to the upstream only', async () => {
    await origin.tree.publish('on-cdn', { 'lib.bin': bytes }, { 'lib.bin': { url: `${cdn.proxy.url}/lib/lib.bin` } });
    const res = await get('on-cdn', 'lib.bin');
    expect(res.status).toBe(200);
    expect(res.rawPayload.equals(bytes)).toBe(true);
    const index = origin.proxy.requests.find((r) => r.path === '/on-cdn/index.json')!;
    expect(index.headers.authorization).toBe(basic);
    const file = cdn.proxy.requests.filter((r) => r.path === '/lib/lib.bin');
    expect(file).toHaveLength(1);
    expect(file[0].headers.authorization).toBeUndefined();
  });

  it('follows a redirect to a declared host, with no credentials on the way', async () => {
    await origin.tree.publish('via-mirror', { 'lib.bin': bytes }, { 'lib.bin': { url: `${mirror.url}/cdn/lib/lib.bin` } });
    const cdnBefore = cdn.count('/lib/lib.bin');
    const res = await get('via-mirror', 'lib.bin');
    expect(res.status).toBe(200);
    expect(res.rawPayload.equals(bytes)).toBe(true);
    expect(cdn.count('/lib/lib.bin')).toBe(cdnBefore + 1);
    expect(mirror.requests.filter((r) => r.path === '/cdn/lib/lib.bin').map((r) => r.headers.authorization)).toEqual([undefined]);
    expect(cdn.proxy.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('a link to an undeclared host is a 502 and that host never sees a request', async () => {
    await origin.tree.publish('linked-away', { 'lib.bin': bytes }, { 'lib.bin': { url: `${elsewhere.proxy.url}/lib/lib.bin` } });
    const res = await get('linked-away', 'lib.bin');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/off its configured hosts/);
    expect(elsewhere.proxy.requests).toEqual([]);
  });

  it('a redirect to an undeclared host is a 502, that host never sees a request, and nothing is kept', async () => {
    await origin.tree.publish('redirected-away', { 'lib.bin': bytes }, { 'lib.bin': { url: `${mirror.url}/elsewhere/lib/lib.bin` } });
    const before = await remoteState(s);
    const res = await get('redirected-away', 'lib.bin');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/is not a configured upstream host/);
    expect(mirror.requests.some((r) => r.path === '/elsewhere/lib/lib.bin')).toBe(true);
    expect(elsewhere.proxy.requests).toEqual([]);
    const after = await remoteState(s);
    expect(after.files).toEqual(before.files);
    expect(after.keys).toEqual(before.keys);
  });

  it('a redirect loop is a 502 after a few hops', async () => {
    await origin.tree.publish('looping', { 'lib.bin': bytes }, { 'lib.bin': { url: `${mirror.url}/loop/lib.bin` } });
    const before = mirror.requests.length;
    const res = await get('looping', 'lib.bin');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/too many redirects/);
    expect(mirror.requests.length - before).toBe(6);
  });

  it('a link with another scheme is refused without a request', async () => {
    await origin.tree.publish('ftp', { 'lib.bin': bytes }, { 'lib.bin': { url: `ftp://${host(cdn.proxy.url)}/lib/lib.bin` } });
    const before = cdn.proxy.requests.length;
    expect((await get('ftp', 'lib.bin')).status).toBe(502);
    expect(cdn.proxy.requests.length).toBe(before);
  });
});
