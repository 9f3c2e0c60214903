import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { genericFormat } from '@stowage/format-generic';
import {
  http,
  type RawConnection,
  rawConnection,
  requestHead,
  serverSockets,
  startTestServer,
  type TestServer,
  waitFor,
} from '@stowage/testkit';

const execFileAsync = promisify(execFile);
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const LIMIT = 4 << 20;

/** The status line of the final answer: the first that is not a 1xx. */
const finalStatus = (received: Buffer) => /HTTP\/1\.1 ([2-5]\d\d) /.exec(received.toString('latin1'))?.[1];

/** The head of a request that waits for 100 Continue before its body. */
const expectingHead = (method: string, path: string, headers: Record<string, string | number>) =>
  requestHead(method, path, { host: 'stowage', expect: '100-continue', ...headers });

/** Where the first response in `received` ends, once all of it (a Content-Length body) has arrived. */
function firstResponseEnd(received: Buffer): number | undefined {
  const head = received.indexOf('\r\n\r\n');
  if (head < 0) return undefined;
  const length = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(received.subarray(0, head).toString('latin1'))?.[1] ?? 0);
  return received.length >= head + 4 + length ? head + 4 + length : undefined;
}

/** Waits for the server to close the connection, far sooner than any of its timeouts would. */
async function serverCloses(conn: RawConnection): Promise<void> {
  let done = false;
  void conn.closed.then(() => (done = true));
  await waitFor('the server to close the connection', () => done, 5_000);
}

// `Expect: 100-continue` asks the server whether it will take the body before the client
// sends it: a request the server refuses (credentials, access, a declared size, a duplicate)
// is answered before a byte of the body travels; one it takes gets 100 Continue first.
describe('Expect: 100-continue', () => {
  let s: TestServer;
  let project: number;
  let noDuplicates: number;
  let writer: string;
  let guest: string;
  let work: string;
  const open: RawConnection[] = [];
  const connect = async () => {
    const conn = await rawConnection(s.url);
    open.push(conn);
    return conn;
  };
  const upload = (p: number, name: string, file = 'file.bin') => `/api/v4/projects/${p}/packages/generic/${name}/1.0.0/${file}`;

  beforeAll(async () => {
    s = await startTestServer({
      formats: [genericFormat],
      mode: 'postgres',
      listen: true,
      // Timeouts far longer than any wait below: a hang shows as a test failure, not as a 408.
      config: { server: { body_timeout: 120, keep_alive_timeout: 120 }, formats: { generic: { max_file_size: LIMIT } } },
    });
    work = await mkdtemp(join(tmpdir(), 'expect-continue-'));
    project = (await s.api.createProject('expect-proj')).id;
    noDuplicates = (await s.api.createProject('expect-nodup')).id;
    await s.api.setPackageSettings({ project: noDuplicates }, { generic_duplicates_allowed: false });
    const dev = await s.api.createUser('expect-dev');
    const visitor = await s.api.createUser('expect-guest');
    for (const p of [project, noDuplicates]) await s.api.addMember({ project: p }, dev.id, 30);
    await s.api.addMember({ project }, visitor.id, 10);
    writer = dev.token;
    guest = visitor.token;
  });
  afterAll(async () => {
    for (const c of open) c.socket.destroy();
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Sends only the head of a 1 MiB upload that expects 100-continue; the body is never sent. */
  async function refusedHead(path: string, headers: Record<string, string>): Promise<RawConnection> {
    const conn = await connect();
    await conn.write(expectingHead('PUT', path, { 'content-length': 1 << 20, ...headers }));
    await serverCloses(conn);
    return conn;
  }

  it.each([
    ['a bad token', () => ({ 'private-token': 'not-a-token' }), () => upload(project, 'refused'), '401'],
    ['no credentials', () => ({}), () => upload(project, 'refused'), '401'],
    ['a guest', () => ({ 'private-token': guest }), () => upload(project, 'refused'), '403'],
    ['a project that does not exist', () => ({ 'private-token': writer }), () => upload(999_999, 'refused'), '404'],
  ])('refuses %s before the body: no 100 Continue, the answer, the connection closed', async (_what, headers, path, status) => {
    const conn = await refusedHead(path(), headers());
    const response = conn.received().toString('latin1');
    expect(response).not.toContain('100 Continue');
    expect(finalStatus(conn.received())).toBe(status);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('refuses a declared length over the limit before the body', async () => {
    const conn = await connect();
    await conn.write(expectingHead('PUT', upload(project, 'too-big'), { 'private-token': writer, 'content-length': LIMIT + 1 }));
    await serverCloses(conn);
    const response = conn.received().toString('latin1');
    expect(response).not.toContain('100 Continue');
    expect(finalStatus(conn.received())).toBe('400');
    expect(response).toContain('{"message":"400 Bad request - File is too large"}');
  });

  it('refuses a duplicate before the body', async () => {
    const path = upload(noDuplicates, 'once');
    expect((await http(s.url, { method: 'PUT', path, token: writer, body: 'first' })).status).toBe(201);
    const conn = await refusedHead(path, { 'private-token': writer });
    const response = conn.received().toString('latin1');
    expect(response).not.toContain('100 Continue');
    expect(finalStatus(conn.received())).toBe('400');
    expect(response).toContain('{"message":"400 Bad request - Duplicate package is not allowed"}');
  });

  it('sends 100 Continue to an upload it takes, stores the body, and serves the next request on the connection', async () => {
    const body = randomBytes(300_000);
    const conn = await connect();
    await conn.write(expectingHead('PUT', upload(project, 'taken'), { 'private-token': writer, 'content-length': body.length }));
    await waitFor('100 Continue', () => conn.received().length >= CONTINUE.length);
    // Nothing but the interim answer while the body has not been sent.
    expect(conn.received().toString('latin1')).toBe(CONTINUE);
    await conn.write(body);
    const created = await waitFor('the final answer', () => firstResponseEnd(conn.received().subarray(CONTINUE.length)));
    expect(finalStatus(conn.received())).toBe('201');
    // Keep-alive: the same connection carries the next request (an upload without Expect).
    const before = CONTINUE.length + created;
    const second = randomBytes(1000);
    const secondHead = requestHead('PUT', upload(project, 'taken', 'second.bin'), {
      host: 'stowage',
      'private-token': writer,
      'content-length': second.length,
    });
    await conn.write(Buffer.concat([secondHead, second]));
    await waitFor('the second answer', () => firstResponseEnd(conn.received().subarray(before)));
    expect(finalStatus(conn.received().subarray(before))).toBe('201');
    for (const [file, bytes] of [
      ['file.bin', body],
      ['second.bin', second],
    ] as const) {
      const download = await http(s.url, { path: upload(project, 'taken', file), token: writer });
      expect(download.status).toBe(200);
      expect(download.body.equals(bytes)).toBe(true);
    }
  });

  it('sends 100 Continue to a chunked upload it takes', async () => {
    const body = randomBytes(70_000);
    const conn = await connect();
    await conn.write(expectingHead('PUT', upload(project, 'chunked'), { 'private-token': writer, 'transfer-encoding': 'chunked' }));
    await waitFor('100 Continue', () => conn.received().length >= CONTINUE.length);
    expect(conn.received().toString('latin1')).toBe(CONTINUE);
    await conn.write(Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
    await waitFor('the final answer', () => finalStatus(conn.received()));
    expect(finalStatus(conn.received())).toBe('201');
    const download = await http(s.url, { path: upload(project, 'chunked'), token: writer });
    expect(download.status).toBe(200);
    expect(download.body.equals(body)).toBe(true);
  });

  it('sends 100 Continue to a JSON body the server parses before the route runs', async () => {
    const body = JSON.stringify({ name: 'expect-json' });
    const conn = await connect();
    const headers = { 'private-token': s.rootToken, 'content-type': 'application/json', 'content-length': body.length };
    await conn.write(expectingHead('POST', '/api/v4/projects', headers));
    await waitFor('100 Continue', () => conn.received().length >= CONTINUE.length);
    expect(conn.received().toString('latin1')).toBe(CONTINUE);
    await conn.write(body);
    await waitFor('the final answer', () => finalStatus(conn.received()));
    expect(finalStatus(conn.received())).toBe('201');
  });

  it('refuses a JSON body declared over body_limit before the body', async () => {
    const conn = await connect();
    const headers = { 'private-token': s.rootToken, 'content-type': 'application/json', 'content-length': s.config.server.body_limit + 1 };
    await conn.write(expectingHead('POST', '/api/v4/projects', headers));
    await serverCloses(conn);
    expect(conn.received().toString('latin1')).not.toContain('100 Continue');
    expect(finalStatus(conn.received())).toBe('413');
  });

  it('closes a refused keep-alive connection whose client sends the body anyway, and serves the next connection', async () => {
    const conn = await connect();
    await conn.write(requestHead('GET', '/-/liveness', { host: 'stowage' }));
    const before = await waitFor('the first answer', () => firstResponseEnd(conn.received()));
    expect(conn.received().toString('latin1')).toMatch(/^HTTP\/1\.1 200 [^]*\r\nconnection: keep-alive\r\n/i);
    await conn.write(expectingHead('PUT', upload(project, 'refused'), { 'private-token': 'nope', 'content-length': 1 << 20 }));
    // A client that stops waiting for 100 Continue (curl after a second) sends the body anyway.
    conn.socket.write(randomBytes(64 << 10));
    conn.socket.on('error', () => undefined);
    await serverCloses(conn);
    expect(finalStatus(conn.received().subarray(before))).toBe('401');
    expect((await http(s.url, { path: '/-/liveness' })).status).toBe(200);
  });

  it.each(['something-else', '100-continue, x-other'])('answers 417 to an expectation it does not know (%s)', async (expectation) => {
    const conn = await connect();
    const headers = { expect: expectation, 'private-token': writer, 'content-length': 9 };
    await conn.write(expectingHead('PUT', upload(project, 'odd'), headers));
    await serverCloses(conn);
    expect(finalStatus(conn.received())).toBe('417');
    expect(conn.received().toString('latin1')).not.toContain('100 Continue');
    expect(conn.received().toString('latin1')).toContain('{"message":"417 Expectation Failed - only Expect: 100-continue is supported"}');
  });

  describe('with curl -T (which sends Expect: 100-continue for files over 1 MiB)', () => {
    const file = randomBytes(3 << 20);
    /** curl's verbose trace, its upload size and the status; it waits for 100 Continue as long as the test may. */
    async function curlUpload(path: string, token: string) {
      const local = join(work, 'upload.bin');
      await writeFile(local, file);
      const { stdout, stderr } = await execFileAsync('curl', [
        '--silent',
        '--verbose',
        '--expect100-timeout',
        '120',
        '--header',
        `PRIVATE-TOKEN: ${token}`,
        '--upload-file',
        local,
        '--output',
        '/dev/null',
        '--write-out',
        '%{http_code} %{size_upload}',
        `${s.url}${path}`,
      ]);
      const [status, sizeUpload] = stdout.trim().split(' ');
      return { status, sizeUpload: Number(sizeUpload), trace: stderr };
    }

    it('gets its 401 for a bad token without uploading the file', async () => {
      const connections = serverSockets(s.app.getHttpServer());
      let sockets: Socket[];
      try {
        const result = await curlUpload(upload(project, 'curl-refused'), 'bad-token');
        sockets = [...connections.sockets];
        expect(result.trace).toMatch(/> Expect: 100-continue/i);
        expect(result.trace).not.toContain('< HTTP/1.1 100 Continue');
        expect(result.status).toBe('401');
        expect(result.sizeUpload).toBe(0);
      } finally {
        connections.stop();
      }
      // The server took in the request head and nothing of the file.
      expect(sockets.length).toBe(1);
      expect(sockets[0].bytesRead).toBeLessThan(1024);
    });

    it('uploads the file after 100 Continue with a good token', async () => {
      const result = await curlUpload(upload(project, 'curl-taken'), writer);
      expect(result.trace).toContain('< HTTP/1.1 100 Continue');
      expect([result.status, result.sizeUpload]).toEqual(['201', file.length]);
      const download = await http(s.url, { path: upload(project, 'curl-taken'), token: writer });
      expect(download.status).toBe(200);
      expect(download.body.equals(file)).toBe(true);
    });
  });
});
