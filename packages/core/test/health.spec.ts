import { rename, rm, writeFile } from 'node:fs/promises';

import { startTestServer, type TestServer } from '@stowage/testkit';

import { ConfigError, resolveConfig } from '../src/config';

// Issue 14, item 14: the health checks (and the dependency errors /-/readiness reports) answer
// only clients on monitoring.ip_whitelist, loopback by default, as GitLab's do; anyone else
// gets the 404 of a path that does not exist.

const PROBES = ['/-/health', '/-/liveness', '/-/readiness'];
const NOT_FOUND = { message: '404 Not Found' };

async function probe(s: TestServer, url: string, remoteAddress: string, headers: Record<string, string> = {}) {
  const res = await s.app.inject({ method: 'GET', url, remoteAddress, headers });
  return { status: res.statusCode, body: res.body };
}

describe('health checks behind monitoring.ip_whitelist', () => {
  describe('default list (loopback)', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({ mode: 'postgres', listen: false });
    });
    afterAll(() => s?.close());

    it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('answers %s in full', async (address) => {
      for (const url of PROBES) expect((await probe(s, url, address)).status).toBe(200);
      const ready = JSON.parse((await probe(s, '/-/readiness', address)).body);
      expect(ready).toEqual({
        status: 'ok',
        checks: { database: { status: 'ok' }, queue: { status: 'ok' }, storage_local: { status: 'ok' } },
      });
    });

    it.each(['10.1.2.3', '192.168.0.7', '::ffff:10.1.2.3', '2001:db8::1'])(
      'answers %s with a plain 404, on every probe',
      async (address) => {
        for (const url of PROBES) {
          const res = await probe(s, url, address);
          expect(res.status).toBe(404);
          expect(JSON.parse(res.body)).toEqual(NOT_FOUND);
        }
        // A HEAD is no way round it either.
        expect((await s.app.inject({ method: 'HEAD', url: '/-/readiness', remoteAddress: address })).statusCode).toBe(404);
      },
    );

    it('a failing dependency’s error text reaches loopback only', async () => {
      const storage = s.storagePath;
      await rename(storage, `${storage}.aside`);
      await writeFile(storage, 'not a directory'); // the local store's check now fails, naming the path
      try {
        const inside = await probe(s, '/-/readiness', '127.0.0.1');
        expect(inside.status).toBe(503);
        expect(JSON.parse(inside.body).checks.storage_local).toEqual({ status: 'failed', message: expect.stringContaining(storage) });
        const outside = await probe(s, '/-/readiness', '10.1.2.3');
        expect(outside.status).toBe(404);
        expect(outside.body).not.toContain(storage);
        expect(outside.body).not.toContain('failed');
      } finally {
        await rm(storage);
        await rename(`${storage}.aside`, storage);
      }
      expect((await probe(s, '/-/readiness', '127.0.0.1')).status).toBe(200);
    });

    it('X-Forwarded-For means nothing without server.trust_proxy', async () => {
      expect((await probe(s, '/-/readiness', '10.1.2.3', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(404);
    });
  });

  describe('an operator’s list', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({
        mode: 'postgres',
        listen: false,
        config: { monitoring: { ip_whitelist: ['10.0.0.0/8', '2001:db8::/32', '192.168.0.7'] } },
      });
    });
    afterAll(() => s?.close());

    it('answers the listed ranges and addresses, and nobody else (loopback included)', async () => {
      for (const address of ['10.1.2.3', '::ffff:10.200.0.1', '2001:db8::1', '192.168.0.7']) {
        expect((await probe(s, '/-/readiness', address)).status).toBe(200);
      }
      for (const address of ['127.0.0.1', '::1', '11.0.0.1', '192.168.0.8', '2001:db9::1']) {
        expect((await probe(s, '/-/readiness', address)).status).toBe(404);
      }
    });
  });

  describe('behind a trusted proxy', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer({ mode: 'postgres', listen: false, config: { server: { trust_proxy: true } } });
    });
    afterAll(() => s?.close());

    it('judges the address the proxy appended to X-Forwarded-For, not the ones the client wrote', async () => {
      const viaProxy = (xff: string) => probe(s, '/-/readiness', '127.0.0.1', { 'x-forwarded-for': xff });
      expect((await viaProxy('203.0.113.9')).status).toBe(404); // a remote client, through the local proxy
      expect((await viaProxy('127.0.0.1, 203.0.113.9')).status).toBe(404); // the client claims loopback
      expect((await viaProxy('203.0.113.9, 127.0.0.1')).status).toBe(200); // a probe on the proxy's host
      expect((await probe(s, '/-/readiness', '127.0.0.1')).status).toBe(200); // no proxy in between
      expect((await probe(s, '/-/readiness', '10.1.2.3')).status).toBe(404);
    });
  });

  describe('config', () => {
    it('defaults to loopback and validates every entry', () => {
      expect(resolveConfig({}).monitoring.ip_whitelist).toEqual(['127.0.0.0/8', '::1/128']);
      expect(resolveConfig({ monitoring: { ip_whitelist: '10.0.0.0/8, ::1' } }).monitoring.ip_whitelist).toEqual(['10.0.0.0/8', '::1']);
      let error: unknown;
      try {
        resolveConfig({ monitoring: { ip_whitelist: ['10.0.0.0/8', '10.0.0.0/33', 'localhost', '::1/129'] } });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(
        'monitoring.ip_whitelist: must list IP addresses or CIDR ranges such as 10.0.0.0/8; not: "10.0.0.0/33", "localhost", "::1/129"',
      );
      expect(() => resolveConfig({ monitoring: { ip_whitelist: [], extra: 1 } })).toThrow('monitoring.extra: unknown key');
    });
  });
});
