import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { BlobNotFoundError, type BlobStore, hasUnfinishedWrites, isListable, newStorageKey } from '@stowage/core';

/** A store under test and how to dispose of it. */
export interface BlobStoreUnderTest {
  store: BlobStore;
  close(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The `BlobStore` contract every storage plugin meets, as one Jest `describe`: call it from a
 * spec of the plugin's package with a factory for a fresh, empty store. The optional parts
 * (`list`, `listUnfinished`) are checked where the store has them.
 */
export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let under: BlobStoreUnderTest;
    let store: BlobStore;

    beforeAll(async () => {
      under = await open();
      store = under.store;
    });
    afterAll(() => under?.close());

    it('reads back what was put, from chunks of any size, with its size in stat()', async () => {
      const key = newStorageKey();
      const bytes = randomBytes(300_000);
      await store.put(key, Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 70_000), bytes.subarray(70_000)]));
      expect(sha256(await readAll(await store.get(key)))).toBe(sha256(bytes));
      const stat = await store.stat(key);
      expect(stat?.size).toBe(bytes.length);
      if (stat?.lastModified) expect(Math.abs(stat.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
      await store.delete(key);
    });

    it('stores an empty blob', async () => {
      const key = newStorageKey();
      await store.put(key, Readable.from([]));
      expect(await store.stat(key)).toMatchObject({ size: 0 });
      expect((await readAll(await store.get(key))).length).toBe(0);
      await store.delete(key);
    });

    // Not `bytes=0-0`: s3rver answers it wrongly (AWS S3 does not).
    it('reads inclusive byte ranges: the first bytes, one byte, the middle, the last bytes', async () => {
      const key = newStorageKey();
      const bytes = randomBytes(10_000);
      await store.put(key, Readable.from([bytes]));
      expect((await readAll(await store.get(key, { start: 0, end: 1 }))).equals(bytes.subarray(0, 2))).toBe(true);
      expect((await readAll(await store.get(key, { start: 5_000, end: 5_000 }))).equals(bytes.subarray(5_000, 5_001))).toBe(true);
      expect((await readAll(await store.get(key, { start: 100, end: 4_099 }))).equals(bytes.subarray(100, 4_100))).toBe(true);
      expect((await readAll(await store.get(key, { start: 9_990, end: 9_999 }))).equals(bytes.subarray(9_990))).toBe(true);
      await store.delete(key);
    });

    it('makes a key readable only once all of its bytes are stored', async () => {
      const key = newStorageKey();
      const body = new Readable({ read() {} });
      const put = store.put(key, body);
      body.push(randomBytes(64 * 1024));
      await new Promise((r) => setTimeout(r, 200));
      expect(await store.stat(key)).toBeNull();
      await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      body.push(null);
      await put;
      expect(await store.stat(key)).toMatchObject({ size: 64 * 1024 });
      await store.delete(key);
    });

    it('answers an absent key with BlobNotFoundError from get() and null from stat()', async () => {
      const key = newStorageKey();
      await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.get(key, { start: 0, end: 9 })).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.stat(key)).toBeNull();
    });

    it('deletes a key; deleting an absent key is not an error', async () => {
      const key = newStorageKey();
      await store.put(key, Readable.from([Buffer.from('gone soon')]));
      await store.delete(key);
      expect(await store.stat(key)).toBeNull();
      await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.delete(key)).resolves.toBeUndefined();
    });

    it('refuses any key that is not a generated storage key, on every operation', async () => {
      for (const bad of ['../../etc/passwd', 'a/b', `${newStorageKey()}/../x`, newStorageKey().toUpperCase(), '']) {
        await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid storage key');
        await expect(store.get(bad)).rejects.toThrow('invalid storage key');
        await expect(store.stat(bad)).rejects.toThrow('invalid storage key');
        await expect(store.delete(bad)).rejects.toThrow('invalid storage key');
      }
    });

    it('a source that fails mid-write fails put() and leaves neither the key nor an unfinished write', async () => {
      const key = newStorageKey();
      let pushed = 0;
      const body = new Readable({
        read() {
          if (pushed++ < 3) this.push(randomBytes(256 * 1024));
          else this.destroy(new Error('client went away'));
        },
      });
      await expect(store.put(key, body)).rejects.toThrow('client went away');
      expect(await store.stat(key)).toBeNull();
      if (hasUnfinishedWrites(store)) expect(await collect(store.listUnfinished())).toEqual([]);
    });

    it('lists every stored key with its size and last-write time, and no deleted one (listable stores)', async () => {
      if (!isListable(store)) return;
      const keys = [newStorageKey(), newStorageKey(), newStorageKey()];
      for (const [i, key] of keys.entries()) await store.put(key, Readable.from([Buffer.alloc(10 * (i + 1), i)]));
      await store.delete(keys[2]);
      const listed = new Map((await collect(store.list())).map((o) => [o.key, o]));
      // lastModified by its value: a Date made outside Jest's realm (fs.stat) fails expect.any(Date).
      for (const [key, size] of [
        [keys[0], 10],
        [keys[1], 20],
      ] as const) {
        expect(listed.get(key)?.size).toBe(size);
        expect(Math.abs(listed.get(key)!.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
      }
      expect(listed.has(keys[2])).toBe(false);
      await Promise.all(keys.map((k) => store.delete(k)));
    });

    it('check() resolves for a usable store', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });
  });
}
