import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { type RawConnection, rawConnection, requestHead, waitFor } from '@stowage/testkit';
import Fastify, { type FastifyInstance } from 'fastify';

import { applyConnectionLimits, type ConnectionLimits, timeoutOptions } from '../src/http/connection-limits';
import { deferExpectContinue } from '../src/http/expect-continue';
import { configureFastify, fastifyOptions } from '../src/http/fastify-setup';
import { readSmallBody } from '../src/http/small-body';
import { requestStream } from '../src/http/stream-body.decorator';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const BODY_TIMEOUT = 400;
/** How long the route's checks take before it reads the body: several body timeouts. */
const CHECKS = 3 * BODY_TIMEOUT;

/** Fastify set up as `createStowageApp` sets it up, with two routes that take their time or refuse. */
async function server(): Promise<{ app: FastifyInstance; url: string }> {
  const limits: ConnectionLimits = {
    headersTimeout: 5_000,
    bodyTimeout: BODY_TIMEOUT,
    keepAliveTimeout: 5_000,
    maxConnections: 0,
    maxConnectionsPerIp: 0,
  };
  const app = Fastify({ ...fastifyOptions({ bodyLimit: 1 << 20, trustProxy: false }), ...timeoutOptions(limits) });
  configureFastify(app);
  applyConnectionLimits(app, limits);
  deferExpectContinue(app);
  app.put('/slow-checks', async (request) => {
    await sleep(CHECKS);
    const body = await readSmallBody(requestStream(request), { max: 1 << 20, tooLarge: () => new Error('too large') });
    return { bytes: body.length };
  });
  app.put('/accepted-unread', async () => ({ ok: true }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

/** The head of a raw upload of `length` bytes that waits for 100 Continue. */
const expectingHead = (path: string, length: number) =>
  requestHead('PUT', path, { host: 'x', expect: '100-continue', 'content-type': 'application/octet-stream', 'content-length': length });

async function serverCloses(conn: RawConnection): Promise<void> {
  let done = false;
  void conn.closed.then(() => (done = true));
  await waitFor('the server to close the connection', () => done, 5_000);
}

describe('Expect: 100-continue and the body timeout', () => {
  let app: FastifyInstance;
  let url: string;
  const open: RawConnection[] = [];
  const connect = async () => {
    const conn = await rawConnection(url);
    open.push(conn);
    return conn;
  };

  beforeAll(async () => ({ app, url } = await server()));
  afterAll(async () => {
    for (const c of open) c.socket.destroy();
    await app?.close();
  });

  it('does not time out a client that waits for 100 Continue while the route checks', async () => {
    const body = randomBytes(50_000);
    const conn = await connect();
    await conn.write(expectingHead('/slow-checks', body.length));
    const asked = Date.now();
    let continuedAfter = 0;
    // The body follows the first bytes from the server at once, as a client's would.
    conn.socket.once('data', () => {
      continuedAfter = Date.now() - asked;
      conn.socket.write(body);
    });
    await waitFor('the answer', () => conn.received().includes('}'));
    expect(continuedAfter).toBeGreaterThanOrEqual(CHECKS - 20);
    expect(conn.received().subarray(0, CONTINUE.length).toString('latin1')).toBe(CONTINUE);
    const response = conn.received().toString('latin1').slice(CONTINUE.length);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain(`{"bytes":${body.length}}`);
  });

  it('times out a client that never sends the body after 100 Continue', async () => {
    const conn = await connect();
    await conn.write(expectingHead('/slow-checks', 1000));
    await serverCloses(conn);
    const response = conn.received().toString('latin1');
    expect(response.startsWith(CONTINUE)).toBe(true);
    expect(response.slice(CONTINUE.length)).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes the connection after an answer given without reading the body, and serves a new one', async () => {
    const conn = await connect();
    await conn.write(expectingHead('/accepted-unread', 1000));
    await serverCloses(conn);
    const response = conn.received().toString('latin1');
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
    const next = await connect();
    await next.write(requestHead('PUT', '/accepted-unread', { host: 'x', 'content-length': 0 }));
    await waitFor('the answer', () => next.received().includes('{"ok":true}'));
    expect(next.received().toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
  });
});
