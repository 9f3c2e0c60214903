import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { http, startTestServer, storedBlobKeys, testModes, type TestServer } from '@stowage/testkit';

import { SMALL_FILE_MAX_BYTES, SmallFileCache } from '../src/storage/small-file-cache';
import { genericFormat, genericPath } from './generic-fixture';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunked = (b: Buffer) => Readable.from([b.subarray(0, 100), b.subarray(100)]);

describe('SmallFileCache', () => {
  const bytes = randomBytes(5000);

  it('keeps bytes that are the digest’s, and answers them from memory', async () => {
    const cache = new SmallFileCache(1 << 20);
    const kept = await cache.fill(sha256(bytes), bytes.length, chunked(bytes));
    expect(kept?.equals(bytes)).toBe(true);
    expect(cache.get(sha256(bytes))?.equals(bytes)).toBe(true);
  });

  it.each([
    ['other bytes of the same length', randomBytes(5000), 5000],
    ['the bytes with one more', Buffer.concat([bytes, Buffer.from('x')]), 5000],
    ['fewer bytes than the size', bytes.subarray(0, 4000), 5000],
  ])('never keeps %s', async (_what, body, size) => {
    const cache = new SmallFileCache(1 << 20);
    expect(await cache.fill(sha256(bytes), size, chunked(body))).toBeNull();
    expect(cache.get(sha256(bytes))).toBeUndefined();
  });

  it(`holds files up to ${SMALL_FILE_MAX_BYTES} bytes, and none with a size of 0`, () => {
    expect(new SmallFileCache(1 << 20).holds(SMALL_FILE_MAX_BYTES)).toBe(true);
    expect(new SmallFileCache(1 << 20).holds(SMALL_FILE_MAX_BYTES + 1)).toBe(false);
    expect(new SmallFileCache(0).holds(10)).toBe(false);
  });

  it('stays within its bound, dropping the least recently used', async () => {
    const cache = new SmallFileCache(12_000);
    const files = [randomBytes(5000), randomBytes(5000), randomBytes(5000)];
    await cache.fill(sha256(files[0]), 5000, chunked(files[0]));
    await cache.fill(sha256(files[1]), 5000, chunked(files[1]));
    cache.get(sha256(files[0]));
    await cache.fill(sha256(files[2]), 5000, chunked(files[2]));
    expect([files[0], files[1], files[2]].map((f) => cache.get(sha256(f)) !== undefined)).toEqual([true, false, true]);
  });
});

// Downloads through the small-file cache: the bytes come from memory after the first read, and
// whether the file may be served, and exists, is still the database's answer on every request.
describe.each(testModes())('small files served from memory (%s)', (mode) => {
  let s: TestServer;
  let token: string;
  let project: number;

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode, config: { packages: { object_store: { enabled: false } } } });
    token = s.rootToken;
    project = (await s.api.createProject('small', { visibility: 'private' })).id;
  });
  afterAll(() => s?.close());

  /** Uploads `body` as a new package's file: its URL path and the stored file's path on disk. */
  async function upload(name: string, body: Buffer): Promise<{ path: string; stored: string }> {
    const before = new Set(await storedBlobKeys(s));
    const path = genericPath(project, `${name}/1.0.0/file.bin`);
    const put = await http(s.url, { method: 'PUT', path, token, body });
    expect(put.status).toBe(201);
    const key = (await storedBlobKeys(s)).find((k) => !before.has(k));
    if (!key) throw new Error('the upload stored no new blob');
    return { path, stored: join(s.storagePath, key) };
  }

  it('after the first download, answers with the bytes (and ranges of them) without the stored file', async () => {
    const body = randomBytes(9 * 1024);
    const { path, stored } = await upload('first', body);
    expect((await http(s.url, { path, token })).body.equals(body)).toBe(true);
    await rm(stored);
    const again = await http(s.url, { path, token });
    expect(again.status).toBe(200);
    expect(again.body.equals(body)).toBe(true);
    expect(again.headers['content-length']).toBe(String(body.length));
    const part = await http(s.url, { path, token, headers: { range: 'bytes=100-199' } });
    expect([part.status, part.headers['content-range']]).toEqual([206, `bytes 100-199/${body.length}`]);
    expect(part.body.equals(body.subarray(100, 200))).toBe(true);
    expect((await http(s.url, { method: 'HEAD', path, token })).headers['content-length']).toBe(String(body.length));
  });

  it('a file deleted through the API is a 404 although its bytes are in memory', async () => {
    const body = randomBytes(2000);
    const { path } = await upload('deleted', body);
    expect((await http(s.url, { path, token })).status).toBe(200);
    const list = await http(s.url, { path: `/api/v4/projects/${project}/packages?package_name=deleted`, token });
    const [pkg] = JSON.parse(list.text) as { id: number }[];
    expect((await http(s.url, { method: 'DELETE', path: `/api/v4/projects/${project}/packages/${pkg.id}`, token })).status).toBe(204);
    const res = await http(s.url, { path, token });
    expect([res.status, res.text]).toEqual([404, '{"message":"404 Package Not Found"}']);
  });

  it('a caller without access gets no bytes from memory', async () => {
    const body = randomBytes(3000);
    const { path } = await upload('private', body);
    expect((await http(s.url, { path, token })).status).toBe(200);
    const outsider = await s.api.createUser('outsider');
    const theirs = await http(s.url, { path, token: outsider.token });
    expect([theirs.status, theirs.text]).toEqual([404, '{"message":"404 Project Not Found"}']);
    expect((await http(s.url, { path })).status).toBe(401);
  });

  it('a stored file that is not its digest’s bytes is never kept: once repaired, the right bytes are served', async () => {
    const body = randomBytes(4000);
    const { path, stored } = await upload('damaged', body);
    await writeFile(stored, randomBytes(body.length));
    const damaged = await http(s.url, { path, token });
    expect(damaged.body.equals(body)).toBe(false);
    await writeFile(stored, body);
    expect((await http(s.url, { path, token })).body.equals(body)).toBe(true);
    expect((await readFile(stored)).equals(body)).toBe(true);
  });
});
