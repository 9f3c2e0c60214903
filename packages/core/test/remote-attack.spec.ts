import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { fixtureFormat, fixturePath } from './remote-fixture';
import { sha256 } from './remote-support';

// A hostile upstream and hostile clients against core's remote machinery (through the fixture
// format): what either does must end in a clear answer, never a 500, a hang that holds other
// clients, or an upstream connection left open.

const KiB = 1024;
const THRESHOLD = 64 * KiB;
const MAX_FILE = 1024 * KiB;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An upstream whose every answer the test writes by hand (python's http.server cannot misbehave on demand). */
async function startHostileUpstream() {
  const routes = new Map<string, Handler>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const handler = routes.get((req.url ?? '/').split('?')[0]);
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-length': 0 }).end();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    routes,
    /** `name/index.json` listing `file` with the sha256 of `bytes`, and `name/file` answered by `handler`. */
    publish(name: string, file: string, bytes: Buffer, handler: Handler) {
      const index = JSON.stringify({ files: [{ name: file, sha256: sha256(bytes) }] });
      routes.set(`/${name}/index.json`, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(index));
      routes.set(`/${name}/${file}`, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each(testModes())('remote registries under attack (%s)', (mode) => {
  let s: TestServer;
  let up: Awaited<ReturnType<typeof startHostileUpstream>>;
  let n = 0;
  const fresh = () => `hostile${++n}`;
  const get = (name: string, rest: string) => s.api.inject({ url: fixturePath('instance', `${name}/${rest}`), token: s.rootToken });

  beforeAll(async () => {
    up = await startHostileUpstream();
    s = await startTestServer({
      formats: [fixtureFormat],
      mode,
      listen: true,
      config: {
        formats: { fixture: { package_requests_forwarding: true, max_file_size: MAX_FILE, upstream: { url: up.url, timeout: 1 } } },
        packages: { remote_cache: { stream_threshold: THRESHOLD } },
      },
    });
  });
  afterAll(async () => {
    await s?.close();
    await up?.close();
  });

  it('an upstream redirect to an address no URL parser accepts is a 502, not a 500', async () => {
    const name = fresh();
    up.routes.set(`/${name}/index.json`, (_req, res) => res.writeHead(302, { location: 'http://[::1' }).end());
    const res = await get(name, 'index.json');
    expect(res.status).toBe(502);
    expect(res.json().message).toMatch(/redirected to an address that is not a URL/);
  });
});
