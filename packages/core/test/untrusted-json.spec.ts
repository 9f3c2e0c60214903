import { http, startTestServer, testModes, type TestServer } from '@stowage/testkit';

import { MAX_JSON_DEPTH, parseUntrustedJson, untrustedValueProblem } from '../src/text/json';

/** `{"a":{"a":…}}` nested `depth` deep, built as text: JSON.stringify itself would overflow. */
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('untrusted JSON', () => {
  it('accepts nesting up to the bound and names the level past it', () => {
    expect(parseUntrustedJson(nestedObject(MAX_JSON_DEPTH))).toBeTruthy();
    expect(() => parseUntrustedJson(nestedObject(MAX_JSON_DEPTH + 1))).toThrow('nesting of 101 is too deep (at most 100)');
    expect(() => parseUntrustedJson(nestedObject(100_000))).toThrow('nesting of 101 is too deep');
    expect(() => parseUntrustedJson('[[1]]', { maxDepth: 1 })).toThrow('nesting of 2 is too deep (at most 1)');
  });

  it('refuses a NUL in a string or a key, and bad syntax, each with its reason', () => {
    expect(() => parseUntrustedJson('{"a":["x\\u0000"]}')).toThrow(expect.objectContaining({ reason: 'nul' }));
    expect(() => parseUntrustedJson('{"a\\u0000":1}')).toThrow(expect.objectContaining({ reason: 'nul' }));
    expect(() => parseUntrustedJson('{"a":')).toThrow(expect.objectContaining({ reason: 'syntax' }));
  });

  it('refuses half of a surrogate pair in a string or a key (jsonb cannot store it); a whole pair is kept', () => {
    for (const text of ['{"a":"x\\ud800"}', '{"a":"\\udc00x"}', '{"\\ud83d":1}']) {
      expect(() => parseUntrustedJson(text)).toThrow(
        expect.objectContaining({ reason: 'surrogate', message: 'an unpaired UTF-16 surrogate (\\ud800-\\udfff) is not allowed' }),
      );
    }
    expect(parseUntrustedJson('{"a":"\\ud83d\\ude00"}')).toEqual({ a: '\u{1F600}' });
  });

  it('walks a flat array of a million values without overflowing the stack', () => {
    expect(untrustedValueProblem(new Array(1_000_000).fill('x'))).toBeNull();
  });
});

// Fastify's own JSON bodies (every route that takes `@Body()`), through a listening server.
describe.each(testModes())('JSON request bodies (%s)', (mode) => {
  let s: TestServer;
  const post = (body: string) =>
    http(s.url, { method: 'POST', path: '/api/v4/groups', token: s.rootToken, body, headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: true });
  });
  afterAll(() => s?.close());

  it('a body nested past the bound is a 400 before any handler runs', async () => {
    const res = await post(`{"name":"deep","path":"deep","description":${nestedObject(10_000)}}`);
    expect([res.status, res.json()]).toEqual([400, { message: '400 Bad request - JSON nesting of 101 is too deep (at most 100)' }]);
    expect((await s.api.inject({ url: '/api/v4/groups/deep', token: s.rootToken })).status).toBe(404);
  });

  it('a flat array of 300,000 values (within the body limit) is an ordinary answer, not a stack overflow 500', async () => {
    const res = await post(`{"name":"flat","path":"flat","x":[${new Array(300_000).fill(0).join(',')}]}`);
    expect(res.status).toBe(201);
  });

  it('a NUL anywhere in the body is still a 400', async () => {
    const res = await post('{"name":"nul","path":"nul","x":[{"y":"\\u0000"}]}');
    expect([res.status, res.json()]).toEqual([400, { message: '400 Bad request - Null byte in request' }]);
  });
});
