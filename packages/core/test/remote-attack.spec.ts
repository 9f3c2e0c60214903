import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';

import { localStorage } from '@stowage/storage-local';
import { startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { ConfigError, resolveConfig } from '../src/config';
import { FIXTURE, fixtureFormat, fixturePath } from './remote-fixture';
import { remoteState, sha256 } from './remote-support';

// A hostile upstream and hostile clients against core's remote machinery (through the fixture
// format): what either does must end in a clear answer, never a 500, a hang that holds other
// clients, or an upstream connection left open.

const KiB = 1024;
const THRESHOLD = 64 * KiB;
const MiB = 1024 * KiB;
/** Past what the kernel's socket buffers absorb for a client that stopped reading. */
const MAX_FILE = 32 * MiB;

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

/**
 * A GET whose client reads the status and headers, then nothing (its connection stays open)
 * until `readRest()`, which reads on to the end or the cut.
 */
function stalledGet(url: string, token: string): Promise<{ status: number; readRest(): Promise<{ complete: boolean; size: number }> }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, headers: { 'private-token': token } }, (res) => {
      res.pause();
      const readRest = () =>
        new Promise<{ complete: boolean; size: number }>((done) => {
          let size = 0;
          res.on('data', (c: Buffer) => (size += c.length));
          res.on('error', () => undefined);
          res.once('close', () => done({ complete: res.complete, size }));
          res.resume();
        });
      resolve({ status: res.statusCode!, readRest });
    });
    req.on('error', reject);
  });
}

/** A GET read to its end, or to its cut. */
function fullGet(url: string, token: string): Promise<{ status: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, headers: { 'private-token': token } }, (res) => {
      res.resume();
      res.on('error', () => undefined);
      res.once('close', () => resolve({ status: res.statusCode!, complete: res.complete }));
    });
    req.on('error', reject);
  });
}

describe.each(testModes())('remote registries under attack (%s)', (mode) => {
  let s: TestServer;
  let up: Awaited<ReturnType<typeof startHostileUpstream>>;
  let n = 0;
  const fresh = () => `hostile${++n}`;
  const get = (name: string, rest: string) => s.api.inject({ url: fixturePath('instance', `${name}/${rest}`), token: s.rootToken });

  const fileUrl = (name: string, file: string) => `${s.url}${fixturePath('instance', `${name}/files/${file}`)}`;

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

  it('a prune by a number of days past what the database can date is a 400, not a 500', async () => {
    const prune = (days: string) =>
      s.api.inject({ method: 'POST', url: `/api/v4/packages/remote_files/prune?max_unused_days=${days}`, token: s.rootToken });
    const res = await prune('999999999');
    expect([res.status, res.json()]).toEqual([400, { error: 'max_unused_days is invalid' }]);
    expect((await prune('36500')).status).toBe(200);
  });

  it('a client that stops reading a large file streamed to it holds neither the fetch nor the clients waiting for it', async () => {
    const name = fresh();
    const bytes = randomBytes(24 * MiB);
    up.publish(name, 'big.bin', bytes, (_req, res) => res.writeHead(200, { 'content-length': bytes.length }).end(bytes));
    const stuck = await stalledGet(fileUrl(name, 'big.bin'), s.rootToken);
    expect(stuck.status).toBe(200);
    // Waits on the first client's fetch; it used to wait as long as that client kept its connection.
    const waiting = await get(name, 'files/big.bin');
    expect(waiting.status).toBe(200);
    expect(waiting.rawPayload.equals(bytes)).toBe(true);
    expect((await remoteState(s)).files.filter((f) => f.package_name === name)).toHaveLength(1);
    // The stuck client was let go: its answer was cut short of the whole file.
    const rest = await stuck.readRest();
    expect(rest.complete).toBe(false);
    expect(rest.size).toBeLessThan(bytes.length);
  }, 15_000);

  it('a streamed fetch that fails (a body past max_file_size that never ends) closes its upstream connection', async () => {
    const name = fresh();
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    up.publish(name, 'endless.bin', Buffer.from('x'), (_req, res) => {
      res.once('close', closed);
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * KiB);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    });
    const before = await remoteState(s);
    const client = await fullGet(fileUrl(name, 'endless.bin'), s.rootToken);
    expect([client.status, client.complete]).toEqual([200, false]);
    await upstreamClosed;
    const after = await remoteState(s);
    expect([after.files, after.blobs, after.keys]).toEqual([before.files, before.blobs, before.keys]);
    expect(await readdir(join(s.storagePath, 'tmp')).catch(() => [])).toEqual([]);
  }, 15_000);
});

describe('upstream config', () => {
  const problems = (url: string, mode = 'redirect') => {
    try {
      resolveConfig({ formats: { fixture: { upstream: { url, mode } } } }, new Map([[FIXTURE, fixtureFormat.config]]), [localStorage]);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it('refuses credentials in the upstream URL: a redirect would hand them to every client, and none reach the upstream', () => {
    expect(problems('https://robot:s3cret@repo.example.org/maven2/')).toEqual([
      expect.stringMatching(/^formats\.fixture\.upstream\.url: .*without user:password@/),
    ]);
    expect(problems('https://robot@repo.example.org/', 'cache')).toHaveLength(1);
    expect(problems('https://repo.example.org/maven2/')).toEqual([]);
  });
});
