import fs from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { newStorageKey } from '@stowage/core';

import { LocalBlobStore } from '../src/local-blob-store';

// put() when the bytes never arrive whole (the client went away): it fails, and neither a
// temp file nor a blob file stays.
describe('LocalBlobStore.put with a failing source', () => {
  let root: string;
  let store: LocalBlobStore;
  const leftovers = async () => [...(await readdir(join(root, 'tmp'))), ...(await readdir(root)).filter((f) => f !== 'tmp')];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-store-'));
    store = new LocalBlobStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  // The source fails while the temp file is still being opened (a slow disk, made slow here):
  // the file appears after pipeline() gave up, so removing it right then would miss it.
  it('leaves no temp file when the source fails while the temp file is being opened', async () => {
    const realOpen = fs.open as (...a: unknown[]) => void;
    const opens: Promise<void>[] = [];
    const slowOpen = jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => {
      const done = args.pop() as (...r: unknown[]) => void;
      opens.push(new Promise((landed) => setTimeout(() => realOpen(...args, (...r: unknown[]) => (done(...r), landed())), 50)));
    }) as unknown as typeof fs.open);
    try {
      const body = new Readable({
        read() {
          this.destroy(new Error('client gone'));
        },
      });
      await expect(store.put(newStorageKey(), body)).rejects.toThrow('client gone');
    } finally {
      slowOpen.mockRestore();
    }
    expect(opens).toHaveLength(1);
    await Promise.all(opens);
    expect(await leftovers()).toEqual([]);
  });

  it('leaves no temp file when the source is destroyed mid-file without an error', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(100_000, 1));
    const put = store.put(newStorageKey(), body);
    setImmediate(() => body.destroy());
    await expect(put).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(await leftovers()).toEqual([]);
  });
});
