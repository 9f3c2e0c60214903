import { connect } from 'node:net';

import { startTestServer, testModes, type TestServer } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { addSecretNames, isSecretName, redactLogLine, redactText, redactUrl } from '../src/http/log-redaction';
import { createLogger, PinoNestLogger } from '../src/http/logger';

// Issue 14, item 6: no credential a request carries reaches the log, however it is spelled:
// query parameters whose names a query parser decodes (`private%5Ftoken`, `%70rivate_token`),
// repeated ones, credential headers of every kind, Basic/Bearer, cookies; on requests that
// succeed, fail with 401, or fail with a 500 whose error is logged.

/** A logger writing to an array, as the server would write to stdout. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}

/** Every form a secret could take on its way into a log. */
const forms = (secret: string) => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64'),
  Buffer.from(`root:${secret}`).toString('base64'),
  Buffer.from(`:${secret}`).toString('base64'),
];

describe('log redaction, unit', () => {
  it('recognises every credential name the auth code and the formats accept, decoded', () => {
    for (const name of [
      'private_token',
      'PRIVATE_TOKEN',
      'private%5Ftoken',
      'private%5ftoken',
      '%70rivate_token',
      '%2570rivate_token',
      'private+token',
      'private%20token',
      'job_token',
      'private-token',
      'Private-Token',
      'job-token',
      'deploy-token',
      'authorization',
      'Proxy-Authorization',
      'cookie',
      'set-cookie',
      'x-nuget-apikey',
      'X-NuGet-ApiKey',
      'access_token',
      'password',
      'x-amz-signature',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
    }
    for (const name of ['page', 'per_page', 'author', 'key', 'name', 'version', 'sha256', 'reqId', 'url', 'file_name']) {
      expect([name, isSecretName(name)]).toEqual([name, false]);
    }
  });

  it('also recognises the credential headers a format plugin declares, however it names them', () => {
    expect(isSecretName('X-Acme-Registry')).toBe(false);
    addSecretNames(['X-Acme-Registry']);
    expect(isSecretName('x-acme-registry')).toBe(true);
    expect(redactLogLine(JSON.stringify({ headers: { 'X-Acme-Registry': 'S3cretValue99' } }))).toBe(
      '{"headers":{"X-Acme-Registry":"[redacted]"}}\n',
    );
  });

  it.each([
    ['/api/v4/user?private_token=S', '/api/v4/user?private_token=[redacted]'],
    ['/api/v4/user?private%5Ftoken=S', '/api/v4/user?private%5Ftoken=[redacted]'],
    ['/api/v4/user?%70rivate_token=S', '/api/v4/user?%70rivate_token=[redacted]'],
    ['/api/v4/user?PRIVATE_TOKEN=S&page=2', '/api/v4/user?PRIVATE_TOKEN=[redacted]&page=2'],
    ['/x?private_token=S&private_token=S2&job_token=S3', '/x?private_token=[redacted]&private_token=[redacted]&job_token=[redacted]'],
    ['/x?a=1#&private_token=S', '/x?a=1#&private_token=[redacted]'],
    ['/x?private_token=S "quoted" <x>&page=1', '/x?private_token=[redacted]&page=1'],
    ['/x?private+token=S', '/x?private+token=[redacted]'],
    ['http://root:S@example.com/x?y=1', 'http://[redacted]@example.com/x?y=1'],
    ['/x/stwpatABC/stwpat-abcdefghijklmnop0123456789ABCDEF', '/x/stwpatABC/[redacted]'],
    ['/api/v4/projects/1/packages?page=2&per_page=20', '/api/v4/projects/1/packages?page=2&per_page=20'],
    ['/x?x=1?private_token=S&page=2', '/x?x=1?private_token=[redacted]&page=2'],
    ['/x?q=1%26private_token%3DS3cretValue99&page=2', '/x?q=[redacted]&page=2'],
    ['http://u:S3cret/x@example.com/y', 'http://[redacted]@example.com/y'],
    ['http://example.com:8080/npm/@acme/lib?page=1', 'http://example.com:8080/npm/@acme/lib?page=1'],
    ['http://example.com/npm/@acme/lib', 'http://example.com/npm/@acme/lib'],
  ])('redactUrl(%j)', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('free text: Basic and Bearer values, header-like pairs, user-info and issued tokens', () => {
    expect(redactText('sent Authorization: Bearer S3cretValue99 upstream')).toBe('sent Authorization: Bearer [redacted] upstream');
    expect(redactText('x-nuget-apikey=S3cretValue99, cookie: a')).toBe('x-nuget-apikey=[redacted], cookie: [redacted]');
    expect(redactText('basic auth with Basic dXNlcjpTM2NyZXQ=')).toBe('basic auth with Basic [redacted]');
    expect(redactText('PRIVATE-TOKEN: S3cretValue99')).toBe('PRIVATE-TOKEN: [redacted]');
    expect(redactText('GET /x?%70rivate_token=S3cretValue99 failed')).toBe('GET /x?%70rivate_token=[redacted] failed');
    expect(redactText('fetch https://u:S3cretValue99@h/p failed')).toBe('fetch https://[redacted]@h/p failed');
    expect(redactText('Invalid URL: http://u:S3cret/Value99@h:1/p')).toBe('Invalid URL: http://[redacted]@h:1/p');
    expect(redactText('GET http://h:8080/api/npm/@acme/lib 404')).toBe('GET http://h:8080/api/npm/@acme/lib 404');
    expect(redactText('token stwjt-0123456789abcdefABCDEF0123456789 expired')).toBe('token [redacted] expired');
    expect(redactText('error: ECONNREFUSED 127.0.0.1:5432')).toBe('error: ECONNREFUSED 127.0.0.1:5432');
  });

  it('a logged error keeps its message and stack, without the credentials its properties or text carry', () => {
    const { logger, lines, text } = capturedLogger();
    const secret = 'Err0rPathSecret-0123456789';
    const err = Object.assign(new Error(`GET /api/v4/user?private%5Ftoken=${secret} failed`), {
      headers: {
        'private-token': secret,
        authorization: `Bearer ${secret}`,
        'X-NuGet-ApiKey': secret,
        cookie: `s=${secret}`,
        accept: 'json',
      },
      config: { url: `http://example.com/x?%70rivate_token=${secret}&page=2`, auth: { username: 'u', password: secret } },
      parameters: [42, 'stwpat-0123456789abcdefABCDEF0123456789'], // a bare secret has no name to go by, but issued ones a prefix
    });
    new PinoNestLogger(logger).error({ err, reqId: 'r1', url: `/y?job_token=${secret}` }, 'request failed');
    logger.error({ err, req: { id: 'r2', method: 'GET', url: `/z?private_token=${secret}` } }, `request failed: ${err.message}`);
    expect(lines).toHaveLength(2);
    for (const form of forms(secret)) expect(text()).not.toContain(form);
    const first = JSON.parse(lines[0]);
    expect(first.err.message).toBe('GET /api/v4/user?private%5Ftoken=[redacted] failed');
    expect(first.err.stack).toContain('Error: GET /api/v4/user?private%5Ftoken=[redacted] failed');
    expect(first.err.headers).toEqual({
      'private-token': '[redacted]',
      authorization: '[redacted]',
      'X-NuGet-ApiKey': '[redacted]',
      cookie: '[redacted]',
      accept: 'json',
    });
    expect(first.err.config.url).toBe('http://example.com/x?%70rivate_token=[redacted]&page=2');
    expect(first.url).toBe('/y?job_token=[redacted]');
    expect(first.err.parameters).toEqual([42, '[redacted]']);
    expect(JSON.parse(lines[1]).req.url).toBe('/z?private_token=[redacted]');
  });

  it('the human-readable lines written to a terminal are redacted the same way', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) }, { pretty: true });
    const secret = 'Pretty+Terminal/Secret=0123456789';
    const err = Object.assign(new Error(`GET /api/v4/user?private%5Ftoken=${secret} failed`), {
      headers: { 'private-token': secret, authorization: `Basic ${Buffer.from(`root:${secret}`).toString('base64')}` },
    });
    new PinoNestLogger(logger).error({ err, url: `/y?job_token=${secret}` }, 'request failed');
    logger.info({ req: { id: 'r2', method: 'GET', url: `/z?private_token=${encodeURIComponent(secret)}` } }, 'request completed');
    logger.warn(`token stwpat-0123456789abcdefABCDEF0123456789 and PRIVATE-TOKEN: ${secret}`);
    const text = lines.join('');
    expect(lines).toHaveLength(3);
    expect(lines[0]).not.toMatch(/^\{/); // not JSON: pino-pretty's `[time] ERROR: message` and indented fields
    expect(text).toContain('ERROR: GET /api/v4/user?private%5Ftoken=[redacted] failed');
    expect(text).toContain('WARN: token [redacted] and PRIVATE-TOKEN: [redacted]');
    expect(text).toContain('/z?private_token=[redacted]');
    expect(text).toContain('Error: GET /api/v4/user?private%5Ftoken=[redacted] failed');
    for (const form of [...forms(secret), 'stwpat-0123456789abcdefABCDEF0123456789']) expect(text).not.toContain(form);
  });

  it('header lines in raw text lose their whole value (cookies hold several)', () => {
    expect(redactText('GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; s=S3cretValue99\r\nX-NuGet-ApiKey: S3cretValue99\r\n')).toBe(
      'GET / HTTP/1.1\r\nHost: h\r\nCookie: [redacted]\r\nX-NuGet-ApiKey: [redacted]\r\n',
    );
  });

  it('a line that is not JSON is still redacted as text', () => {
    expect(redactLogLine('plain PRIVATE-TOKEN: S3cretValue99\n')).toBe('plain PRIVATE-TOKEN: [redacted]\n');
  });
});

describe.each(testModes())('log redaction through a running server (%s)', (mode) => {
  let s: TestServer;
  const capture = capturedLogger();
  // Chosen by the operator, so without the prefix of generated tokens: only name-based
  // redaction can keep it out of the log. `+`, `/` and `=` change under URL encoding.
  const secret = 'Operator+Chosen/Root=Secret-0123456789';
  const wrong = 'Wrong+But/Secret=Too-9876543210';

  beforeAll(async () => {
    s = await startTestServer({ mode, listen: false, rootToken: secret, logger: capture.logger });
  });
  afterAll(() => s?.close());

  const enc = encodeURIComponent;
  const basic = (v: string) => `Basic ${Buffer.from(`root:${v}`).toString('base64')}`;
  /** Each spelling of a credential, and whether the auth code takes it (→ 200 with the right secret). */
  const spellings = (v: string): { label: string; query?: string; headers?: Record<string, string>; accepted: boolean }[] => [
    { label: 'private_token', query: `private_token=${enc(v)}`, accepted: true },
    { label: 'private%5Ftoken', query: `private%5Ftoken=${enc(v)}`, accepted: true },
    { label: '%70rivate_token', query: `%70rivate_token=${enc(v)}`, accepted: true },
    { label: 'PRIVATE_TOKEN', query: `PRIVATE_TOKEN=${enc(v)}`, accepted: false },
    { label: 'repeated', query: `private_token=${enc(v)}&private_token=${enc(v)}`, accepted: false },
    { label: 'raw + in value', query: `private_token=${v}`, accepted: false },
    { label: 'job_token', query: `job_token=${enc(v)}&page=1`, accepted: false },
    { label: 'after a second ?', query: `x=1?private_token=${enc(v)}`, accepted: false },
    { label: 'inside another value', query: `q=1${enc(`&private_token=${v}`)}`, accepted: false },
    { label: 'PRIVATE-TOKEN header', headers: { 'PRIVATE-TOKEN': v }, accepted: true },
    { label: 'private_token header', headers: { private_token: v }, accepted: false },
    { label: 'Bearer', headers: { authorization: `Bearer ${v}` }, accepted: true },
    { label: 'Basic', headers: { authorization: basic(v) }, accepted: true },
    { label: 'basic, lower case', headers: { authorization: `basic ${Buffer.from(`:${v}`).toString('base64')}` }, accepted: true },
    { label: 'cookie', headers: { cookie: `_gitlab_session=${v}; other=1` }, accepted: false },
    { label: 'X-NuGet-ApiKey', headers: { 'X-NuGet-ApiKey': v }, accepted: false },
    { label: 'DEPLOY-TOKEN', headers: { 'deploy-token': v }, accepted: false },
  ];

  it('requests that succeed or fail with 401, in every spelling, leave no secret in the log', async () => {
    const before = capture.lines.length;
    for (const v of [secret, wrong]) {
      for (const sp of spellings(v)) {
        const res = await s.app.inject({ method: 'GET', url: `/api/v4/user${sp.query ? `?${sp.query}` : ''}`, headers: sp.headers });
        expect([sp.label, res.statusCode]).toEqual([sp.label, sp.accepted && v === secret ? 200 : 401]);
      }
    }
    const logged = capture.lines.slice(before).join('');
    // The requests were logged, with their parameters' names and the rest of the URL intact.
    expect(logged).toContain('"url":"/api/v4/user?%70rivate_token=[redacted]"');
    expect(logged).toContain('"url":"/api/v4/user?private%5Ftoken=[redacted]"');
    expect(logged).toContain('"url":"/api/v4/user?job_token=[redacted]&page=1"');
    expect(logged).toContain('"statusCode":401');
    for (const v of [secret, wrong]) for (const form of forms(v)) expect(capture.text()).not.toContain(form);
  });

  it('a request that fails with a 500 is logged with its error, and still no secret', async () => {
    const ds = s.app.get(DataSource);
    const before = capture.lines.length;
    await ds.query('ALTER TABLE namespaces RENAME TO namespaces_aside');
    try {
      for (const sp of spellings(secret).filter((x) => x.accepted)) {
        const res = await s.app.inject({ method: 'GET', url: `/api/v4/projects/1${sp.query ? `?${sp.query}` : ''}`, headers: sp.headers });
        expect([sp.label, res.statusCode]).toEqual([sp.label, 500]);
        expect(res.json()).toEqual({ message: '500 Internal Server Error' });
      }
    } finally {
      await ds.query('ALTER TABLE namespaces_aside RENAME TO namespaces');
    }
    const logged = capture.lines.slice(before);
    const failures = logged.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request failed');
    expect(failures.length).toBe(spellings(secret).filter((x) => x.accepted).length);
    expect(failures[0].err.message).toMatch(/namespaces/); // the cause is there to debug with
    for (const form of forms(secret)) expect(capture.text()).not.toContain(form);
  });
});

describe('log redaction of a request too malformed to route (postgres, trace level)', () => {
  let s: TestServer;
  const lines: string[] = [];
  const secret = 'Raw+Packet/Secret=0123456789';

  beforeAll(async () => {
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    s = await startTestServer({ mode: 'postgres', listen: true, logger });
  });
  afterAll(() => s?.close());

  it('the raw request Node hands the client-error log is redacted too', async () => {
    const { port } = new URL(s.url);
    const request = [
      `GET /api/v4/user?private_token=${encodeURIComponent(secret)} HTTP/1.1`,
      'Host: localhost',
      `PRIVATE-TOKEN: ${secret}`,
      `Authorization: Basic ${Buffer.from(`root:${secret}`).toString('base64')}`,
      `Cookie: a=1; session=${secret}`,
      'Not A Header',
      '',
      '',
    ].join('\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const deadline = Date.now() + 5000;
    while (!lines.some((l) => l.includes('"rawPacket"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const logged = lines.find((l) => l.includes('"rawPacket"'));
    expect(logged).toBeDefined();
    expect(JSON.parse(logged!).err.rawPacket).toContain('PRIVATE-TOKEN: [redacted]'); // the packet is there, as text
    for (const form of forms(secret)) expect(lines.join('')).not.toContain(form);
  });
});
