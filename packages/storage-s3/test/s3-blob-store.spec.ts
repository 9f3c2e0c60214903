import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { BlobNotFoundError, BlobStoreUnavailableError, newStorageKey } from '@stowage/core';

import { S3BlobStore } from '../src';
import { startS3rver, type TestS3 } from './s3rver';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `total` random bytes in 1 MiB chunks, of unknown length to the consumer. */
function generated(total: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const chunk = randomBytes(Math.min(1 << 20, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

describe('S3BlobStore against s3rver', () => {
  let s3: TestS3;
  let store: S3BlobStore;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3BlobStore({
      remoteDirectory: `${s3.bucket}/blobs`,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      pathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
  });

  afterAll(async () => {
    store.destroy();
    await s3.close();
  });

  it('puts, gets, ranges, stats and deletes', async () => {
    const key = newStorageKey();
    const bytes = randomBytes(100_000);
    await store.put(key, Readable.from([bytes.subarray(0, 40_000), bytes.subarray(40_000)]));
    expect(await store.stat(key)).toEqual({ size: 100_000, lastModified: expect.any(Date) });
    expect(sha256(await readAll(await store.get(key)))).toBe(sha256(bytes));
    expect((await readAll(await store.get(key, { start: 10, end: 19 }))).equals(bytes.subarray(10, 20))).toBe(true);
    expect((await readAll(await store.get(key, { start: 99_990, end: 99_999 }))).equals(bytes.subarray(99_990))).toBe(true);
    const listed = [];
    for await (const o of store.list()) listed.push(o);
    expect(listed).toEqual([expect.objectContaining({ key, size: 100_000 })]);

    await store.delete(key);
    expect(await store.stat(key)).toBeNull();
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    await store.delete(key); // absent: not an error
  });

  it('lists more than one page of keys', async () => {
    const paged = new S3BlobStore({
      remoteDirectory: `${s3.bucket}/paged`,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      pathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      listPageSize: 10,
    });
    const keys = Array.from({ length: 35 }, () => newStorageKey());
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < keys.length) await paged.put(keys[next++], Readable.from([Buffer.from('x')]));
      }),
    );
    const listed: string[] = [];
    const send = jest.spyOn(paged.client, 'send');
    for await (const o of paged.list()) listed.push(o.key);
    expect(send).toHaveBeenCalledTimes(4);
    expect(listed.sort()).toEqual([...keys].sort());
    await Promise.all(keys.map((k) => paged.delete(k)));
    paged.destroy();
  });

  it('refuses keys that are not generated storage keys', async () => {
    await expect(store.get('../../etc/passwd')).rejects.toThrow('invalid storage key');
    await expect(store.put('a/b', Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid storage key');
  });

  it('presigns a GET that a plain HTTP client can fetch, with disposition and type', async () => {
    const key = newStorageKey();
    const bytes = randomBytes(5000);
    await store.put(key, Readable.from([bytes]));
    const url = await store.presignedGetUrl(key, { expiresInSeconds: 60, fileName: 'my file ü.tgz', contentType: 'application/x-tar' });
    expect(url).toContain('X-Amz-Signature=');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="my file _.tgz"; filename*=UTF-8''my%20file%20%C3%BC.tgz`);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(bytes));

    const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const expired = await store.presignedGetUrl(key, { expiresInSeconds: 1, fileName: 'x', contentType: 'text/plain' });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(expired)).status).toBe(403);
    await store.delete(key);
  });

  it('streams a 50 MB upload of unknown length through multipart and reads back the same sha256', async () => {
    const key = newStorageKey();
    const size = 50 * 1000 * 1000 + 123;
    const src = generated(size);
    await store.put(key, src.stream);
    expect(await store.stat(key)).toEqual({ size, lastModified: expect.any(Date) });
    const back = createHash('sha256');
    let n = 0;
    for await (const c of await store.get(key)) {
      back.update(c as Buffer);
      n += (c as Buffer).length;
    }
    expect(n).toBe(size);
    expect(back.digest('hex')).toBe(src.digest());
    await store.delete(key);
  }, 60_000);

  it('a failing source aborts the upload and leaves no object', async () => {
    const key = newStorageKey();
    let pushed = 0;
    const body = new Readable({
      read() {
        if (pushed++ < 12) this.push(randomBytes(1 << 20));
        else this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put(key, body)).rejects.toThrow('client went away');
    expect(await store.stat(key)).toBeNull();
  });

  it('check() passes for the bucket and names a missing bucket', async () => {
    await expect(store.check()).resolves.toBeUndefined();
    const other = new S3BlobStore({
      remoteDirectory: 'nope',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      pathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    await expect(other.check()).rejects.toThrow('bucket nope does not exist');
    other.destroy();
  });

  it('wrong credentials are refused, not mistaken for a missing key', async () => {
    const other = new S3BlobStore({
      remoteDirectory: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      pathStyle: true,
      accessKeyId: 'WRONG',
      secretAccessKey: 'WRONG',
    });
    await expect(other.stat(newStorageKey())).rejects.toThrow();
    other.destroy();
  });

  it('reports an unreachable service as BlobStoreUnavailableError and recovers when it returns', async () => {
    const key = newStorageKey();
    await s3.stop();
    try {
      await expect(store.put(key, Readable.from([randomBytes(1000)]))).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      await expect(store.stat(key)).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      await expect(store.check()).rejects.toThrow(/bucket packages is unreachable/);
    } finally {
      await s3.start();
    }
    await store.put(key, Readable.from([Buffer.from('back')]));
    expect((await readAll(await store.get(key))).toString()).toBe('back');
    await store.delete(key);
  });
});
