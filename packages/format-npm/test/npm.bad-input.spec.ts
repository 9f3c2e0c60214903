import { constants } from 'node:buffer';

import { http, rawConnection, requestHead, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { npmFormat } from '../src';
import { filesUnder, publishBody } from './npm.fixtures';

const MAX_FILE = 64 * 1024;

/** `[[[…]]]` nested `depth` deep, built as text: JSON.stringify itself would overflow. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// Hostile bodies through the listening server: a 4xx with npm's `error`, nothing stored.
describe.each(testModes())('npm bad input (%s)', (mode) => {
  let s: TestServer;
  let projectId: number;

  const path = (rest: string) => `/api/v4/projects/${projectId}/packages/npm/${rest}`;
  const put = (rest: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    http(s.url, { method: 'PUT', path: path(rest), token: s.rootToken, body, headers: { 'content-type': 'application/json', ...headers } });
  const stored = () => filesUnder(s.storagePath);
  const versions = async () =>
    (await s.api.root<{ version: string }[]>('GET', `/api/v4/projects/${projectId}/packages?package_type=npm`)).map((p) => p.version);

  /** A publish body whose manifest holds `extra` as raw JSON text under the key `x`. */
  const publishWith = (version: string, extra: string) => {
    const body = JSON.stringify(publishBody('@acme/lib', version));
    return body.replace(`"version":"${version}","_id"`, `"version":"${version}","x":${extra},"_id"`);
  };

  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], mode, listen: true, config: { formats: { npm: { max_file_size: MAX_FILE } } } });
    projectId = (await s.api.createProject('lib')).id;
  });
  afterAll(() => s?.close());

  it('a manifest nested 5,000 deep is a 400, not a RangeError 500', async () => {
    const before = await stored();
    const res = await put('@acme%2flib', publishWith('1.0.0', nested(5000)));
    expect([res.status, res.json()]).toEqual([400, { error: 'Request body is refused: nesting of 101 is too deep (at most 100)' }]);
    expect(await stored()).toEqual(before);
    expect(await versions()).toEqual([]);
  });

  it('a NUL in a manifest string or key is a 400, not a jsonb 500', async () => {
    for (const extra of ['"a\\u0000b"', '{"k\\u0000":1}']) {
      const res = await put('@acme%2flib', publishWith('1.0.1', extra));
      expect([res.status, res.json()]).toEqual([400, { error: 'Request body is refused: a NUL character (\\u0000) is not allowed' }]);
    }
    expect(await versions()).toEqual([]);
  });

  it('half of a surrogate pair in a manifest string or key is a 400, not a jsonb 500', async () => {
    for (const extra of ['"a\\ud800"', '{"\\udc00k":1}']) {
      const res = await put('@acme%2flib', publishWith('1.0.1', extra));
      expect([res.status, res.json()]).toEqual([
        400,
        { error: 'Request body is refused: an unpaired UTF-16 surrogate (\\ud800-\\udfff) is not allowed' },
      ]);
    }
    expect(await versions()).toEqual([]);
  });

  it('nesting of 100 is still accepted', async () => {
    expect((await put('@acme%2flib', publishWith('1.0.2', nested(96)))).status).toBe(200);
    expect(await versions()).toEqual(['1.0.2']);
  });

  it('a deprecate body nested deep is a 400', async () => {
    const res = await put('@acme%2flib', `{"versions":{"1.0.2":{"deprecated":"x","y":${nested(5000)}}}}`, { 'npm-command': 'deprecate' });
    expect([res.status, res.json().error]).toEqual([400, 'Request body is refused: nesting of 101 is too deep (at most 100)']);
  });

  it('a dist-tag body (parsed by Fastify) nested deep or holding a NUL is a 400', async () => {
    const tag = (body: string) => put('-/package/@acme%2flib/dist-tags/beta', body);
    const deep = await tag(nested(5000));
    expect([deep.status, deep.json().message]).toEqual([400, '400 Bad request - JSON nesting of 101 is too deep (at most 100)']);
    const nul = await tag('"1.0.2\\u0000"');
    expect([nul.status, nul.json().message]).toEqual([400, '400 Bad request - Null byte in request']);
  });

  it('a publish body past the limit is a 413 answer, chunked or declared, not a reset', async () => {
    const limit = Math.ceil((MAX_FILE * 4) / 3) + 1024 ** 2;
    const big = Buffer.alloc(limit + 10, 0x20);
    const before = await versions();
    for (const opts of [{ body: big }, { chunks: [big.subarray(0, 1000), big.subarray(1000)] }]) {
      const res = await http(s.url, {
        method: 'PUT',
        path: path('@acme%2flib'),
        token: s.rootToken,
        headers: { 'content-type': 'application/json' },
        ...opts,
      });
      expect([res.status, res.json().error]).toEqual([413, `Request body is too large (the limit is ${limit} bytes)`]);
    }
    expect(await versions()).toEqual(before);
  });

  it('an audit body is read to its end but not without bound: past 16 MiB it is a 413', async () => {
    const audit = (opts: { body?: Buffer; chunks?: Buffer[] }) =>
      http(s.url, {
        method: 'POST',
        path: path('-/npm/v1/security/advisories/bulk'),
        token: s.rootToken,
        headers: { 'content-type': 'application/json' },
        ...opts,
      });
    expect([(await audit({ body: Buffer.from('{}') })).status]).toEqual([200]);
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    for (const opts of [
      { chunks: Array.from({ length: 17 }, () => mib) },
      { body: Buffer.concat(Array.from({ length: 17 }, () => mib)) },
    ]) {
      const res = await audit(opts);
      expect([res.status, res.json().error]).toEqual([413, `Request body is too large (the limit is ${16 * 1024 * 1024} bytes)`]);
    }
  });
});

// Default limits: max_file_size 500 MiB would allow a 667 MiB publish body, more than a string
// can hold for JSON.parse (it failed, after buffering all of it, as "not valid JSON").
describe('npm publish body beyond what can be parsed', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ formats: [npmFormat], listen: true });
  });
  afterAll(() => s?.close());

  it('is a 413 naming the limit, answered from the declared length before the body is read', async () => {
    const projectId = (await s.api.createProject('lib')).id;
    const conn = await rawConnection(s.url);
    const head = requestHead('PUT', `/api/v4/projects/${projectId}/packages/npm/@acme%2flib`, {
      host: 'localhost',
      'private-token': s.rootToken,
      'content-type': 'application/json',
      'content-length': 600 * 1024 * 1024,
    });
    await conn.write(Buffer.concat([head, Buffer.from('{"name":"@acme/lib"')]));
    const deadline = Date.now() + 10_000;
    while (!/\r\n\r\n[^]*\}/.test(conn.received().toString()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    conn.socket.destroy();
    const answer = conn.received().toString();
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: `Request body is too large (the limit is ${constants.MAX_STRING_LENGTH} bytes)`,
    });
  });
});
