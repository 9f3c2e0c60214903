import type { Readable } from 'node:stream';
import { createInflateRaw, crc32 } from 'node:zlib';

// A zip reader over random-access reads of stored bytes: the central directory, then each
// entry streamed through inflate with its declared size as a hard cap. Nothing is buffered
// but the directory and the entries a caller asks to keep (go.mod).

/** Opens bytes [start, end] (inclusive) of the stored file. */
export type RangeReader = (start: number, end: number) => Promise<Readable>;

export class ZipFormatError extends Error {}

export interface ZipEntry {
  name: string;
  isDir: boolean;
  /** Unix file type bits said this is a symlink or another non-regular file. */
  irregular: boolean;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_DIRECTORY = 64 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const bad = (message: string): never => {
  throw new ZipFormatError(message);
};

async function readBuffer(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      bad('zip structure is larger than expected');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export class ZipReader {
  private constructor(
    private readonly read: RangeReader,
    private readonly fileSize: number,
    readonly entries: ZipEntry[],
  ) {}

  static async open(read: RangeReader, fileSize: number): Promise<ZipReader> {
    const bytes = (start: number, length: number) => {
      if (start < 0 || length < 0 || start + length > fileSize) bad('zip structure points outside the file');
      return length === 0 ? Promise.resolve(Buffer.alloc(0)) : read(start, start + length - 1).then((s) => readBuffer(s, length));
    };
    if (fileSize < 22) bad('not a zip file');
    const tailStart = Math.max(0, fileSize - (22 + 0xffff));
    const tail = await bytes(tailStart, fileSize - tailStart);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) bad('not a zip file (no end of central directory record)');
    if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) bad('multi-disk zip files are not supported');
    let count = tail.readUInt16LE(eocd + 10);
    let dirSize = tail.readUInt32LE(eocd + 12);
    let dirOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== EOCD64_LOCATOR) bad('zip64 end of central directory locator is missing');
      const rec = await bytes(Number(tail.readBigUInt64LE(loc + 8)), 56);
      if (rec.readUInt32LE(0) !== EOCD64) bad('zip64 end of central directory record is invalid');
      count = Number(rec.readBigUInt64LE(32));
      dirSize = Number(rec.readBigUInt64LE(40));
      dirOffset = Number(rec.readBigUInt64LE(48));
    }
    if (dirSize > MAX_DIRECTORY) bad('zip central directory is too large');
    const dir = await bytes(dirOffset, dirSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) bad('zip central directory is corrupt');
      const madeBy = dir.readUInt16LE(p + 4) >> 8;
      const flags = dir.readUInt16LE(p + 8);
      const nameLen = dir.readUInt16LE(p + 28);
      const extraLen = dir.readUInt16LE(p + 30);
      const commentLen = dir.readUInt16LE(p + 32);
      const mode = dir.readUInt32LE(p + 38) >>> 16;
      if (p + 46 + nameLen + extraLen + commentLen > dir.length) bad('zip central directory is corrupt');
      let name: string;
      try {
        name = utf8.decode(dir.subarray(p + 46, p + 46 + nameLen));
      } catch {
        name = bad('zip entry name is not valid UTF-8');
      }
      const entry: ZipEntry = {
        name,
        isDir: name.endsWith('/'),
        irregular: false,
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
      };
      if (madeBy === 3 && mode !== 0) {
        const type = mode & 0o170000;
        entry.irregular = type !== 0o100000 && type !== 0o040000;
      }
      if (flags & 1) bad(`zip entry ${name} is encrypted`);
      readZip64Extra(entry, dir.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
      entries.push(entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipReader(read, fileSize, entries);
  }

  /**
   * Verifies `entries` in one sequential read of the file: each one's data must be exactly
   * its declared size and CRC, and no two may overlap. Returns the bytes of those `keep`
   * selects (the caller has capped their sizes).
   */
  async verify(entries: readonly ZipEntry[], keep: (e: ZipEntry) => boolean = () => false): Promise<Map<ZipEntry, Buffer>> {
    const kept = new Map<ZipEntry, Buffer>();
    const ordered = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
    if (!ordered.length) return kept;
    const cursor = new Cursor(await this.read(ordered[0].localHeaderOffset, this.fileSize - 1), ordered[0].localHeaderOffset);
    try {
      for (const entry of ordered) {
        if (entry.method !== 0 && entry.method !== 8) bad(`zip entry ${entry.name} uses unsupported compression method ${entry.method}`);
        if (entry.localHeaderOffset < cursor.pos) bad(`zip entry ${entry.name} overlaps another entry`);
        await cursor.skip(entry.localHeaderOffset - cursor.pos);
        const header = await cursor.read(30);
        if (header.readUInt32LE(0) !== LOCAL) bad(`zip entry ${entry.name} has no local header`);
        await cursor.skip(header.readUInt16LE(26) + header.readUInt16LE(28));
        if (cursor.pos + entry.compressedSize > this.fileSize) bad(`zip entry ${entry.name} extends past the end of the file`);
        if (entry.method === 0 && entry.compressedSize !== entry.size) bad(`zip entry ${entry.name}: size does not match its data`);
        const data = await checkData(entry, cursor, keep(entry));
        if (data) kept.set(entry, data);
      }
    } finally {
      cursor.close();
    }
    return kept;
  }
}

/** Exact reads over one forward-only stream. */
class Cursor {
  private buffered = Buffer.alloc(0);
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    private readonly stream: Readable,
    public pos: number,
  ) {
    this.chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done) bad('zip file is truncated');
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, next.value]) : next.value;
  }

  /** Up to `max` bytes (at least one), consumed. */
  async chunk(max: number): Promise<Buffer> {
    if (!this.buffered.length) await this.fill();
    const out = this.buffered.subarray(0, max);
    this.buffered = this.buffered.subarray(out.length);
    this.pos += out.length;
    return out;
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) await this.fill();
    return this.chunk(n);
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) left -= (await this.chunk(left)).length;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Pushes one entry's compressed bytes through inflate, checking size and CRC as they come. */
async function checkData(entry: ZipEntry, cursor: Cursor, keep: boolean): Promise<Buffer | undefined> {
  const out: Buffer[] = [];
  let size = 0;
  let crc = 0;
  const take = (chunk: Buffer) => {
    size += chunk.length;
    if (size > entry.size) bad(`zip entry ${entry.name}: uncompressed data is larger than its declared size`);
    crc = crc32(chunk, crc);
    if (keep) out.push(chunk);
  };
  if (entry.method === 0) {
    for (let left = entry.compressedSize; left > 0; ) {
      const c = await cursor.chunk(left);
      left -= c.length;
      take(c);
    }
  } else {
    const inflate = createInflateRaw();
    let failure: Error | undefined;
    inflate.on('data', (c: Buffer) => {
      try {
        take(c);
      } catch (err) {
        failure ??= err as Error;
      }
    });
    const ended = new Promise<void>((resolve) => {
      inflate.on('end', resolve);
      inflate.on('error', (err) => {
        failure ??= new ZipFormatError(`zip entry ${entry.name}: ${err.message}`);
        resolve();
      });
    });
    for (let left = entry.compressedSize; left > 0 && !failure; ) {
      const c = await cursor.chunk(left);
      left -= c.length;
      if (!inflate.write(c)) await Promise.race([new Promise((r) => inflate.once('drain', r)), ended]);
    }
    if (!failure) inflate.end();
    else inflate.destroy();
    if (!failure) await ended;
    if (failure) throw failure;
  }
  if (size !== entry.size) bad(`zip entry ${entry.name}: uncompressed data is smaller than its declared size`);
  if (crc >>> 0 !== entry.crc32) bad(`zip entry ${entry.name}: checksum error`);
  return keep ? Buffer.concat(out) : undefined;
}

function readZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = () => {
        if (r + 8 > q + 4 + len) bad(`zip entry ${entry.name} has a short zip64 extra field`);
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
    }
    q += 4 + len;
  }
}
