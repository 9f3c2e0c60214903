import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

import { genericFormat } from '@stowage/format-generic';
import {
  http,
  type RawConnection,
  rawConnection,
  requestHead,
  startTestServer,
  storedBlobKeys,
  type TestServer,
  waitFor,
} from '@stowage/testkit';

const LIMIT = 0.3;
const sha = (b: Buffer) => b.toString('base64');

/** Resolves with the milliseconds until the server closed the connection. */
async function closedAfter(conn: RawConnection, since: number, deadline = 5_000): Promise<number> {
  let done = false;
  void conn.closed.then(() => (done = true));
  await waitFor('the server to close the connection', () => done, deadline);
  return Date.now() - since;
}

// Slow-loris: connections that trickle or stall are closed within the configured limits,
// while a slow upload that keeps sending is served whatever its total time.
describe('slow and idle clients', () => {
  let s: TestServer;
  let project: number;
  let token: string;
  const upload = (name: string) => `/api/v4/projects/${project}/packages/generic/${name}/1.0.0/file.bin`;
  const tempFiles = async () => (await readdir(join(s.storagePath, 'tmp')).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));

  beforeAll(async () => {
    s = await startTestServer({
      formats: [genericFormat],
      mode: 'postgres',
      // Local storage, whatever STOWAGE_TEST_OBJECT_STORE says: the test watches its temp files.
      config: {
        server: { headers_timeout: LIMIT, body_timeout: LIMIT, keep_alive_timeout: LIMIT },
        packages: { object_store: { enabled: false } },
      },
    });
    const user = await s.api.createUser('slow');
    project = (await s.api.createProject('slow-proj')).id;
    await s.api.addMember({ project }, user.id, 30);
    token = user.token;
  });
  afterAll(() => s?.close());

  it('closes a connection that never sends a byte', async () => {
    const start = Date.now();
    const conn = await rawConnection(s.url);
    const elapsed = await closedAfter(conn, start);
    expect(elapsed).toBeGreaterThanOrEqual(LIMIT * 1000 - 20);
    expect(conn.received().length).toBe(0);
  });

  it('answers 408 and closes a connection that trickles its headers', async () => {
    const conn = await rawConnection(s.url);
    const start = Date.now();
    await conn.write('GET /-/liveness HTTP/1.1\r\nHost: stowage\r\n');
    let open = true;
    void conn.closed.then(() => (open = false));
    const trickle = setInterval(() => open && conn.socket.write('X-Slow: a\r\n'), 50);
    try {
      const elapsed = await closedAfter(conn, start);
      expect(elapsed).toBeGreaterThanOrEqual(LIMIT * 1000 - 20);
    } finally {
      clearInterval(trickle);
    }
    expect(conn.received().toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('answers 408 and closes an upload whose body stops, leaving nothing behind', async () => {
    const conn = await rawConnection(s.url);
    await conn.write(requestHead('PUT', upload('stalled'), { host: 'stowage', 'private-token': token, 'content-length': 1 << 20 }));
    await conn.write(randomBytes(100_000));
    // The upload reached storage before the client stopped.
    await waitFor('the upload to reach a temp file', async () => (await tempFiles()).length > 0);
    await closedAfter(conn, Date.now());
    const response = conn.received().toString();
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toMatch(/[Cc]onnection: close\r\n/);
    expect(response.slice(response.indexOf('\r\n\r\n') + 4)).toBe(
      JSON.stringify({ message: `408 Request Timeout - no bytes of the request body for ${LIMIT} s` }),
    );
    await waitFor('the temp file to be removed', async () => (await tempFiles()).length === 0);
    expect((await http(s.url, { path: upload('stalled'), token })).status).toBe(404);
    expect(await storedBlobKeys(s)).toEqual([]);
  });

  it('answers 408 to a JSON body that stops', async () => {
    const conn = await rawConnection(s.url);
    await conn.write(
      requestHead('POST', '/api/v4/projects', {
        host: 'stowage',
        'private-token': token,
        'content-type': 'application/json',
        'content-length': 1000,
      }),
    );
    await conn.write('{"name":"never-');
    await closedAfter(conn, Date.now());
    expect(conn.received().toString()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers anonymous uploads trickling their bodies at once and closes them (20 at a time)', async () => {
    const conns = await Promise.all(Array.from({ length: 20 }, () => rawConnection(s.url)));
    let open = conns.length;
    for (const c of conns) void c.closed.then(() => open--);
    const trickle = setInterval(() => {
      for (const c of conns) if (!c.socket.destroyed) c.socket.write('x');
    }, 50);
    try {
      for (const c of conns) await c.write(requestHead('PUT', upload('anonymous'), { host: 'stowage', 'content-length': 1 << 20 }));
      await waitFor('every connection to be closed', () => open === 0);
    } finally {
      clearInterval(trickle);
    }
    for (const c of conns) expect(c.received().toString()).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('takes a slow upload that keeps sending, however long it takes in total', async () => {
    const body = randomBytes(200_000);
    const chunks = 25;
    const conn = await rawConnection(s.url);
    await conn.write(requestHead('PUT', upload('slow'), { host: 'stowage', 'private-token': token, 'content-length': body.length }));
    const start = Date.now();
    // A chunk every 100 ms: far inside the inactivity limit, several times the limit in total.
    for (let i = 0; i < chunks; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await conn.write(body.subarray((i * body.length) / chunks, ((i + 1) * body.length) / chunks));
    }
    expect(Date.now() - start).toBeGreaterThan(LIMIT * 1000 * 5);
    await waitFor('the response', () => conn.received().includes('\r\n\r\n'));
    expect(conn.received().toString()).toMatch(/^HTTP\/1\.1 201 /);
    conn.socket.destroy();
    const download = await http(s.url, { path: upload('slow'), token });
    expect([download.status, sha(download.body)]).toEqual([200, sha(body)]);
  });

  it('closes an idle keep-alive connection after its request', async () => {
    const conn = await rawConnection(s.url);
    await conn.write('GET /-/liveness HTTP/1.1\r\nHost: stowage\r\n\r\n');
    await waitFor('the response', () => conn.received().includes('\r\n\r\n'));
    expect(conn.received().toString()).toMatch(/^HTTP\/1\.1 200 /);
    expect(conn.received().toString()).toMatch(/[Kk]eep-[Aa]live: timeout=/);
    // Node adds a second to the socket's keep-alive timer for requests already on their way.
    await closedAfter(conn, Date.now(), 5_000);
  });
});

describe('connection caps', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startTestServer({
      mode: 'embedded',
      config: { server: { max_connections: 6, max_connections_per_ip: 3, headers_timeout: 30 } },
    });
  });
  afterAll(() => s?.close());

  const port = () => Number(new URL(s.url).port);
  /** A connection from `localAddress` (any 127.x address reaches the server on loopback). */
  const from = (localAddress: string) =>
    new Promise<ReturnType<typeof connect>>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: port(), localAddress });
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  const serverConnections = () => new Promise<number>((r) => s.app.getHttpServer().getConnections((_e: unknown, n: number) => r(n)));
  const refused = async (socket: ReturnType<typeof connect>) => {
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await waitFor('the server to close the extra connection', () => closed);
  };
  const served = async (localAddress: string) => {
    const socket = await from(localAddress);
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    socket.write('GET /-/liveness HTTP/1.1\r\nHost: stowage\r\nConnection: close\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    return Buffer.concat(got).toString();
  };

  it('refuses a fourth connection from one address and a seventh in all, and serves again once one closes', async () => {
    const open = [...(await Promise.all(['127.0.0.2', '127.0.0.2', '127.0.0.2'].map(from)))];
    await waitFor('three connections', async () => (await serverConnections()) === 3);
    await refused(await from('127.0.0.2'));
    open.push(...(await Promise.all(['127.0.0.3', '127.0.0.3', '127.0.0.3'].map(from))));
    await waitFor('six connections', async () => (await serverConnections()) === 6);
    await refused(await from('127.0.0.4'));

    open[0].destroy();
    await waitFor('a free place', async () => (await serverConnections()) === 5);
    expect(await served('127.0.0.4')).toMatch(/^HTTP\/1\.1 200 /);
    for (const socket of open) socket.destroy();
  });
});
