import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { access, constants, type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  BlobNotFoundError,
  type ByteRange,
  type ListableBlobStore,
  type ListedKey,
  STORAGE_KEY,
  type UnfinishedWrite,
  type UnfinishedWritesStore,
} from '@stowage/core';

/** The temp files put() writes: `<uuid>.part`. */
const TEMP_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.part$/;

/** For `.catch()`: a path that is not there (any more) reads as `value`. */
const ifAbsent =
  <T>(value: T) =>
  (err: NodeJS.ErrnoException): T => {
    if (err.code === 'ENOENT') return value;
    throw err;
  };

/** The two-hex-digit directories of a level of the key tree (`ab`, then `cd`), sorted. */
async function keyDirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(ifAbsent([]));
  return entries
    .filter((e) => e.isDirectory() && /^[0-9a-f]{2}$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Blobs as files under one directory. A write goes to `tmp/` first and is renamed into
 * place only when complete, so a reader never sees a partial file. Keys are checked
 * against the generated-key pattern, so no key can name a path outside the root.
 */
export class LocalBlobStore implements ListableBlobStore, UnfinishedWritesStore {
  readonly kind = 'local' as const;
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  private path(key: string): string {
    if (!STORAGE_KEY.test(key)) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
    return join(this.root, key);
  }

  async put(key: string, body: Readable): Promise<void> {
    const target = this.path(key);
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, `${randomUUID()}.part`);
    const out = createWriteStream(tmp, { flags: 'wx' });
    try {
      await pipeline(body, out);
      await mkdir(dirname(target), { recursive: true });
      await rename(tmp, target);
    } catch (err) {
      // A write stream failed while still opening creates its file after pipeline() gives up:
      // wait for its descriptor to close, or the unlink below comes first and the file stays.
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = await this.openFile(key);
    return file.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async openFile(key: string): Promise<FileHandle> {
    return open(this.path(key), 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new BlobNotFoundError(key) : err;
    });
  }

  async stat(key: string): Promise<{ size: number; lastModified: Date } | null> {
    try {
      const s = await stat(this.path(key));
      return { size: s.size, lastModified: s.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.path(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /**
   * Every blob file with its size and mtime, the time of its last write (the rename into
   * place keeps it). One leaf directory at a time (each holds files/65,536 on average), so
   * memory stays flat however many there are; readdir rather than opendir, which costs
   * several times as much per directory.
   */
  async *list(): AsyncIterable<ListedKey> {
    for (const a of await keyDirectories(this.root)) {
      for (const b of await keyDirectories(join(this.root, a))) {
        const entries = await readdir(join(this.root, a, b), { withFileTypes: true }).catch(ifAbsent([]));
        const keys = entries
          .filter((e) => e.isFile())
          .map((e) => `${a}/${b}/${e.name}`)
          .filter((k) => STORAGE_KEY.test(k));
        const stats = await Promise.all(keys.map((k) => stat(join(this.root, k)).catch(ifAbsent(null))));
        for (const [i, s] of stats.entries()) if (s) yield { key: keys[i], size: s.size, lastModified: s.mtime };
      }
    }
  }

  /** The temp files in `tmp/`: each is a write in progress or one a crash cut short. */
  async *listUnfinished(): AsyncIterable<UnfinishedWrite> {
    for (const name of await readdir(this.tmpDir).catch(ifAbsent([] as string[]))) {
      if (!TEMP_FILE.test(name)) continue;
      const s = await stat(join(this.tmpDir, name)).catch(ifAbsent(null));
      if (s?.isFile()) yield { id: name, size: s.size, lastModified: s.mtime };
    }
  }

  /** Its mtime is read again right before the unlink: a write that went on since the listing keeps its file. */
  async removeUnfinished(id: string, writtenBefore: Date): Promise<boolean> {
    if (!TEMP_FILE.test(id)) throw new Error(`invalid temp file name: ${JSON.stringify(id)}`);
    const path = join(this.tmpDir, id);
    const s = await stat(path).catch(ifAbsent(null));
    if (!s || s.mtime >= writtenBefore) return false;
    return unlink(path).then(() => true, ifAbsent(false));
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }
}
