import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { http, rawHttp, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { mavenFormat } from '../src';

// A hostile client and a hostile upstream against Stowage's Maven proxy: request paths that try
// to steer the upstream request elsewhere, and upstream answers that are not what they claim.

const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An upstream whose answers the test writes by hand, logging every request target it receives. */
async function startHostileUpstream() {
  const routes = new Map<string, Handler>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const handler = routes.get((req.url ?? '/').split('?')[0]);
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-length': 0 }).end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const body =
    (text: Buffer | string): Handler =>
    (_req, res) =>
      res.writeHead(200, { 'content-length': Buffer.byteLength(text) }).end(text);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    routes,
    requests,
    /** Answers `path` with 200 and `text`. */
    serve(path: string, text: Buffer | string) {
      routes.set(path, body(text));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const metadata = (artifactId: string, version: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>hostile</groupId><artifactId>${artifactId}</artifactId>` +
  `<versioning><release>${version}</release><versions><version>${version}</version></versions></versioning></metadata>\n`;
const LOGIN_PAGE = '<!DOCTYPE html>\n<html><body><form action="/login">Sign in</form></body></html>\n';
const HTML_NO_DOCTYPE = '<html><body>Sign in</body></html>';
const BOMB =
  '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n' +
  '<metadata><groupId>&lol2;</groupId></metadata>\n';

describe.each(testModes())('maven remote registry under attack (%s)', (mode) => {
  let up: Awaited<ReturnType<typeof startHostileUpstream>>;
  let s: TestServer;
  const base = '/api/v4/packages/maven';
  const get = (path: string) => http(s.url, { path: `${base}/${path}`, token: s.rootToken });

  beforeAll(async () => {
    up = await startHostileUpstream();
    s = await startTestServer({
      formats: [mavenFormat],
      mode,
      listen: true,
      // metadata_ttl 0: every read asks the upstream again, so a changed answer shows at once.
      config: {
        formats: { maven: { package_requests_forwarding: true, upstream: { url: `${up.url}/`, timeout: 2, metadata_ttl: 0 } } },
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('sends the upstream nothing but plain layout paths, whatever spelling of another path or host a client tries', async () => {
    up.requests.length = 0;
    const hostile = [
      '..%2f..%2fetc/passwd/1.0/passwd-1.0.jar',
      '%2e%2e/%2e%2e/x/1.0/x-1.0.jar',
      'a/b/1.0/..%5c..%5cb-1.0.jar',
      'a/b/1.0/%5c%5cevil.example/b-1.0.jar',
      '%2f%2fevil.example/a/1.0/a-1.0.jar',
      '/%2fevil.example/a/1.0/a-1.0.jar',
      'http:%2f%2fevil.example/a/1.0/a-1.0.jar',
      'a/b/1.0/user@evil.example/b-1.0.jar',
      'a/b%3f/1.0/b-1.0.jar',
      'a/b/1.0/b-1.0.jar%23frag',
      'a/b/1.0/b-1.0.jar%00.sha1',
      'a/b/1.0/b-1.0.jar%0d%0aX-Injected:%201',
    ];
    for (const path of hostile) {
      const res = await rawHttp(s.url, { path: `${base}/${path}`, token: s.rootToken });
      expect([path, res.status]).toEqual([path, expect.any(Number)]);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['x-injected']).toBeUndefined();
    }
    // A query string stays with Stowage: the upstream is asked for the layout path alone.
    expect((await rawHttp(s.url, { path: `${base}/a/b/1.0/b-1.0.jar?x=../../evil&private_token=t`, token: s.rootToken })).status).toBe(404);
    expect(up.requests).toEqual(['/a/b/1.0/b-1.0.jar.sha1']);
  });

  it('answers 502 for an upstream maven-metadata.xml that is an HTML page or declares a DOCTYPE, and keeps none of it', async () => {
    for (const [name, text] of [
      ['login', LOGIN_PAGE],
      ['html', HTML_NO_DOCTYPE],
      ['bomb', BOMB],
    ]) {
      up.serve(`/hostile/${name}/maven-metadata.xml`, text);
      const res = await get(`hostile/${name}/maven-metadata.xml`);
      expect([name, res.status]).toEqual([name, 502]);
      expect(res.json().message).toMatch(/maven-metadata\.xml (is not XML Maven can read|has <html> at its root)/);
      expect(res.text).not.toContain('Sign in');
    }
  });

  it('keeps serving the last good maven-metadata.xml (with a Warning) when the upstream turns to answering a page that is not one', async () => {
    const path = 'hostile/kept/maven-metadata.xml';
    const good = metadata('kept', '1.0');
    up.serve(`/${path}`, good);
    expect((await get(path)).text).toBe(good);
    up.serve(`/${path}`, BOMB);
    const res = await get(path);
    expect([res.status, res.text]).toEqual([200, good]);
    expect(res.headers.warning).toMatch(/^111 /);
    expect((await get(`${path}.sha1`)).text).toBe(sha1(good));
  });

  it('answers 502 for a checksum file past 64 KiB, as a metadata document of max_metadata_size would be held in memory and stored', async () => {
    const path = 'hostile/fat/1.0/fat-1.0.jar';
    up.serve(`/${path}`, 'PK');
    up.serve(`/${path}.sha1`, Buffer.concat([Buffer.from(`${sha1('PK')}\n`), Buffer.alloc(1024 * 1024, 'a')]));
    for (const res of [await get(`${path}.sha1`), await get(path)]) {
      expect(res.status).toBe(502);
      expect(res.json().message).toMatch(/exceeds 65536 bytes/);
    }
  });

  it('verifies a file against the last good .sha1 when the upstream turns to answering an HTML page for it', async () => {
    const path = 'hostile/sum/1.0/sum-1.0.jar';
    const jar = Buffer.from('PK jar bytes');
    up.serve(`/${path}`, jar);
    up.serve(`/${path}.sha1`, sha1(jar));
    expect((await get(`${path}.sha1`)).text).toBe(sha1(jar));
    up.serve(`/${path}.sha1`, LOGIN_PAGE);
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.body.equals(jar)).toBe(true);
  });
});
