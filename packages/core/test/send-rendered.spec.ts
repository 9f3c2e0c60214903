import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import Fastify, { type FastifyInstance } from 'fastify';

import { etagMatches, negotiateEncoding, renderedDocument, sendRendered, type SendRenderedOptions } from '../src/rendering';

describe('etagMatches', () => {
  const etag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc"', true],
    ['*', true],
    ['"abd"', false],
    ['abc', false],
    ['', false],
  ])('%s → %s', (header, expected) => expect(etagMatches(header, etag)).toBe(expected));

  it('compares weakly when the tag itself is weak, and reads repeated headers', () => {
    expect(etagMatches('"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches(['"x"', '"abc"'], etag)).toBe(true);
    expect(etagMatches(undefined, etag)).toBe(false);
  });
});

describe('negotiateEncoding', () => {
  it.each([
    [undefined, undefined],
    ['gzip', 'gzip'],
    ['gzip, deflate', 'gzip'],
    ['x-gzip', 'gzip'],
    ['gzip, br', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['gzip;q=0, br', 'br'],
    ['gzip;q=0', undefined],
    ['br;q=0, gzip;q=0', undefined],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['br;q=0, *', 'gzip'],
    ['identity', undefined],
    ['deflate', undefined],
  ])('%s → %s', (header, expected) => expect(negotiateEncoding(header)).toBe(expected));

  it('offers only the codings named', () => {
    expect(negotiateEncoding('br, gzip', ['gzip'])).toBe('gzip');
    expect(negotiateEncoding('br', ['gzip'])).toBeUndefined();
    expect(negotiateEncoding('gzip', [])).toBeUndefined();
  });
});

describe('sendRendered', () => {
  const body = JSON.stringify({ versions: [...Array(300).keys()].map((i) => `1.0.${i}`) });
  const doc = renderedDocument(body);
  let app: FastifyInstance;
  let options: SendRenderedOptions;

  beforeAll(async () => {
    app = Fastify();
    app.get('/doc', (request, reply) => sendRendered(request, reply, doc, options));
    app.get('/small', (request, reply) => sendRendered(request, reply, renderedDocument('{}'), options));
    await app.ready();
  });
  afterAll(() => app.close());
  beforeEach(() => (options = { contentType: 'application/json', vary: ['Accept'] }));

  it('sends the bytes with ETag, Content-Type, Cache-Control and Vary', async () => {
    const res = await app.inject({ url: '/doc' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(body);
    expect(res.headers).toMatchObject({
      etag: doc.etag,
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      vary: 'Accept, Accept-Encoding',
      'content-length': String(doc.body.length),
    });
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('answers 304 to a matching If-None-Match (strong, weak, in a list, *), 200 otherwise', async () => {
    for (const inm of [doc.etag, `W/${doc.etag}`, `"other", ${doc.etag}`, '*']) {
      const res = await app.inject({ url: '/doc', headers: { 'if-none-match': inm } });
      expect([inm, res.statusCode, res.body]).toEqual([inm, 304, '']);
      expect(res.headers.etag).toBe(doc.etag);
    }
    expect((await app.inject({ url: '/doc', headers: { 'if-none-match': '"other"' } })).statusCode).toBe(200);
  });

  it('compresses for clients that accept it, once per document, under an ETag of its own', async () => {
    const gz = await app.inject({ url: '/doc', headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(body);
    expect(gz.headers.etag).not.toBe(doc.etag);
    const again = await app.inject({ url: '/doc', headers: { 'accept-encoding': 'gzip' } });
    expect(again.rawPayload.equals(gz.rawPayload)).toBe(true);
    expect(doc.encoded.size).toBe(1);

    const br = await app.inject({ url: '/doc', headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(body);

    const notModified = await app.inject({
      url: '/doc',
      headers: { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) },
    });
    expect(notModified.statusCode).toBe(304);
    // The gzip ETag does not validate the identity bytes.
    const plain = await app.inject({ url: '/doc', headers: { 'if-none-match': String(gz.headers.etag) } });
    expect(plain.statusCode).toBe(200);
  });

  it('honours q=0, the offered codings and the size threshold', async () => {
    const refused = await app.inject({ url: '/doc', headers: { 'accept-encoding': 'gzip;q=0, br;q=0' } });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body).toBe(body);
    expect((await app.inject({ url: '/small', headers: { 'accept-encoding': 'gzip' } })).headers['content-encoding']).toBeUndefined();
    options = { contentType: 'application/json', encodings: ['gzip'] };
    expect((await app.inject({ url: '/doc', headers: { 'accept-encoding': 'br, gzip' } })).headers['content-encoding']).toBe('gzip');
    options = { contentType: 'application/json', encodings: [] };
    const identity = await app.inject({ url: '/doc', headers: { 'accept-encoding': 'br, gzip' } });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.headers.vary).toBeUndefined();
    options = { contentType: 'application/json', compressFrom: 0 };
    expect((await app.inject({ url: '/small', headers: { 'accept-encoding': 'gzip' } })).headers['content-encoding']).toBe('gzip');
  });

  it('sends Last-Modified and answers If-Modified-Since only when asked to', async () => {
    const at = new Date('2026-01-02T03:04:05Z');
    options = { contentType: 'application/json', lastModified: at, headers: { 'x-checksum-sha1': 'abc' } };
    const res = await app.inject({ url: '/doc', headers: { 'if-modified-since': at.toUTCString() } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['last-modified']).toBe(at.toUTCString());
    expect(res.headers['x-checksum-sha1']).toBe('abc');
    options = { ...options, ifModifiedSince: true };
    expect((await app.inject({ url: '/doc', headers: { 'if-modified-since': at.toUTCString() } })).statusCode).toBe(304);
    const before = new Date(at.getTime() - 1000).toUTCString();
    expect((await app.inject({ url: '/doc', headers: { 'if-modified-since': before } })).statusCode).toBe(200);
    // If-None-Match wins over If-Modified-Since.
    const inm = await app.inject({ url: '/doc', headers: { 'if-modified-since': at.toUTCString(), 'if-none-match': '"other"' } });
    expect(inm.statusCode).toBe(200);
  });

  it('answers HEAD with the headers of the GET', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/doc' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(doc.body.length));
    expect(res.body).toBe('');
  });
});
