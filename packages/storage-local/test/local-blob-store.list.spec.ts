import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { newStorageKey } from '@stowage/core';

import { LocalBlobStore } from '../src/local-blob-store';

// What the sweep reads from local storage: blob files with their mtimes, and temp files; and
// nothing else under the storage path, whatever an operator keeps there.
describe('LocalBlobStore listing', () => {
  let root: string;
  let store: LocalBlobStore;
  const all = async <T>(it: AsyncIterable<T>) => {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-store-list-'));
    store = new LocalBlobStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('an empty or missing storage path lists nothing', async () => {
    expect(await all(new LocalBlobStore(join(root, 'missing')).list())).toEqual([]);
    expect(await all(new LocalBlobStore(join(root, 'missing')).listUnfinished())).toEqual([]);
    expect(await all(store.list())).toEqual([]);
  });

  it('lists every blob file with its size and the mtime of its last write; not temp files, not foreign files', async () => {
    const keys = [newStorageKey(), newStorageKey(), newStorageKey()];
    for (const [i, key] of keys.entries()) await store.put(key, Readable.from([Buffer.alloc(100 * (i + 1), i)]));
    const old = new Date(Date.now() - 48 * 3600_000);
    await utimes(join(root, keys[0]), old, old);
    // Not blob files: a temp file, a stray file at a key-shaped depth, a key-shaped directory, files at the root.
    await writeFile(join(root, 'tmp', `${randomUUID()}.part`), 'partial');
    await mkdir(join(root, 'ab', 'cd'), { recursive: true });
    await writeFile(join(root, 'ab', 'cd', 'README.txt'), 'mine');
    await mkdir(join(root, 'ab', 'cd', randomUUID()));
    await writeFile(join(root, 'lost+found'), '');
    await mkdir(join(root, 'AB', 'cd'), { recursive: true });
    await writeFile(join(root, 'AB', 'cd', randomUUID()), 'upper-case is not a key');

    const listed = await all(store.list());
    expect(listed.map((o) => o.key).sort()).toEqual([...keys].sort());
    const byKey = new Map(listed.map((o) => [o.key, o]));
    for (const [i, key] of keys.entries()) expect(byKey.get(key)!.size).toBe(100 * (i + 1));
    expect(byKey.get(keys[0])!.lastModified.getTime()).toBe(old.getTime());
    expect(byKey.get(keys[1])!.lastModified.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.stat(keys[0])).toEqual({ size: 100, lastModified: old });
  });

  it('lists temp files; removes one only while its last write is older than asked, and refuses any other name', async () => {
    await mkdir(join(root, 'tmp'));
    const staleName = `${randomUUID()}.part`;
    const freshName = `${randomUUID()}.part`;
    await writeFile(join(root, 'tmp', staleName), Buffer.alloc(1234));
    await writeFile(join(root, 'tmp', freshName), Buffer.alloc(10));
    await writeFile(join(root, 'tmp', 'notes.txt'), 'not a temp file of ours');
    const old = new Date(Date.now() - 48 * 3600_000);
    await utimes(join(root, 'tmp', staleName), old, old);

    const listed = await all(store.listUnfinished());
    expect(listed.map((w) => [w.id, w.size]).sort()).toEqual(
      [
        [staleName, 1234],
        [freshName, 10],
      ].sort(),
    );
    const cutoff = new Date(Date.now() - 24 * 3600_000);
    expect(await store.removeUnfinished(freshName, cutoff)).toBe(false);
    // Written to again since it was listed: young again, kept.
    await writeFile(join(root, 'tmp', staleName), Buffer.alloc(1), { flag: 'a' });
    expect(await store.removeUnfinished(staleName, cutoff)).toBe(false);
    await utimes(join(root, 'tmp', staleName), old, old);
    expect(await store.removeUnfinished(staleName, cutoff)).toBe(true);
    expect(await store.removeUnfinished(staleName, cutoff)).toBe(false); // already gone
    expect((await all(store.listUnfinished())).map((w) => w.id)).toEqual([freshName]);
    expect((await stat(join(root, 'tmp', 'notes.txt'))).isFile()).toBe(true);

    for (const bad of ['notes.txt', `../${staleName}`, `${randomUUID()}.part/../../x`, '']) {
      await expect(store.removeUnfinished(bad, new Date())).rejects.toThrow('invalid temp file name');
    }
  });
});
