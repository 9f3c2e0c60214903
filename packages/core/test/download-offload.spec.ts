import { createHash, randomBytes } from 'node:crypto';

import {
  documentedOffloadServerBlock,
  http,
  startTestNginx,
  startTestServer,
  storedBlobKeys,
  testModes,
  type TestNginx,
  type TestServer,
} from '@stowage/testkit';

import { genericFormat, genericPath } from './generic-fixture';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// packages.local_download_offload behind a real nginx configured as the documentation says:
// Stowage decides (access, 304, headers) and nginx sends the bytes of the stored file.
describe.each(testModes())('local_download_offload through nginx (%s)', (mode) => {
  let s: TestServer;
  let nginx: TestNginx;
  let token: string;
  let path: string;
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const etag = `"${sha256(body)}"`;

  beforeAll(async () => {
    s = await startTestServer({
      formats: [genericFormat],
      mode,
      // Local storage whatever STOWAGE_TEST_OBJECT_STORE says: offload is about local files.
      config: { packages: { local_download_offload: { enabled: true }, object_store: { enabled: false } } },
    });
    const server = await documentedOffloadServerBlock(s.url, s.storagePath);
    expect(server).toContain(`alias ${s.storagePath}/;`);
    nginx = await startTestNginx({ server });
    const project = await s.api.createProject('offload', { visibility: 'private' });
    token = s.rootToken;
    path = genericPath(project.id, 'app/1.0.0/app.tar.gz');
    const put = await http(nginx.url, { method: 'PUT', path, token, body });
    expect([put.status, put.text]).toEqual([201, '{"message":"201 Created"}']);
  });
  afterAll(async () => {
    await nginx?.close();
    await s?.close();
  });

  it('Stowage answers a GET with the headers, no body and the storage key under the prefix', async () => {
    const res = await http(s.url, { path, token });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(res.headers['content-length']).toBe('0');
    const [key] = await storedBlobKeys(s);
    expect(res.headers['x-accel-redirect']).toBe(`/_stowage_blobs/${key}`);
    expect(res.headers.etag).toBe(etag);
  });

  it("through nginx: the uploaded bytes, with Stowage's headers", async () => {
    const head = await http(s.url, { method: 'HEAD', path, token });
    const res = await http(nginx.url, { path, token });
    expect(res.status).toBe(200);
    expect(res.body.equals(body)).toBe(true);
    expect(res.headers.server).toMatch(/^nginx/);
    expect(res.headers['x-accel-redirect']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(body.length));
    for (const h of ['etag', 'last-modified', 'content-type', 'content-disposition', 'x-checksum-sha256']) {
      expect([h, res.headers[h]]).toEqual([h, head.headers[h]]);
    }
    expect(res.headers.etag).toBe(etag);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['accept-ranges']).toBe('bytes');
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=-500', body.length - 500, body.length - 1],
    ['bytes=3000000-', 3000000, body.length - 1],
  ])('Range %s → 206 with the right bytes', async (range, start, end) => {
    const res = await http(nginx.url, { path, token, headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${body.length}`);
    expect(res.body.equals(body.subarray(start, end + 1))).toBe(true);
    expect(res.headers.etag).toBe(etag);
  });

  it('If-Range with the ETag gets the range, with another validator the whole file', async () => {
    const hit = await http(nginx.url, { path, token, headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect([hit.status, hit.body.length]).toEqual([206, 10]);
    const stale = await http(nginx.url, { path, token, headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
    expect([stale.status, stale.body.length]).toEqual([200, body.length]);
  });

  it("If-None-Match and HEAD are Stowage's answers", async () => {
    const notModified = await http(nginx.url, { path, token, headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect(notModified.headers.etag).toBe(etag);
    // A date validator is not Stowage's to honour: nginx must not answer it from the file's mtime.
    const since = await http(nginx.url, { path, token, headers: { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() } });
    expect([since.status, since.body.length]).toEqual([200, body.length]);
    const head = await http(nginx.url, { method: 'HEAD', path, token });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(body.length));
    expect(head.headers.etag).toBe(etag);
  });

  it('a private file is refused without a token or with a wrong one, and no bytes leave', async () => {
    const anonymous = await http(nginx.url, { path });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json()).toEqual({ message: '401 Unauthorized' });
    const wrong = await http(nginx.url, { path, token: 'stwpat-not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.includes(body.subarray(0, 64))).toBe(false);
  });

  it('the internal location cannot be fetched directly (nginx: 404)', async () => {
    const [key] = await storedBlobKeys(s);
    const direct = await http(nginx.url, { path: `/_stowage_blobs/${key}` });
    expect(direct.status).toBe(404);
    expect(direct.headers.server).toMatch(/^nginx/);
    expect(direct.body.includes(body.subarray(0, 64))).toBe(false);
  });

  it('an unknown file is a 404 from Stowage', async () => {
    const res = await http(nginx.url, { path: path.replace('app.tar.gz', 'missing.tar.gz'), token });
    expect(res.status).toBe(404);
    expect(res.json().message).toMatch(/^404 /);
  });
});
