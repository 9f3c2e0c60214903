import { crc32, createInflateRaw } from 'node:zlib';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteRange } from '../storage/blob-store';

/**
 * Reads zip archives (wheels, nupkgs, jars, composer dists) through a random-access source,
 * such as `FileStorage.open(sha256, range)`: only the central directory and the entry asked
 * for are read, so an archive is never loaded whole. Entries may be stored or deflated;
 * extraction stops at a hard cap on the decompressed size (zip-bomb safe) and checks the
 * entry's CRC-32 and size.
 */

/** Random access to the archive's bytes. */
export interface ZipSource {
  size: number;
  /** The bytes of an inclusive range, as a stream. */
  read(range: ByteRange): Promise<Readable>;
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; others cannot be extracted. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  flags: number;
  localHeaderOffset: number;
  isDirectory: boolean;
}

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipReaderLimits {
  /** Entries in the central directory (default 100,000). */
  maxEntries?: number;
  /** Bytes of the central directory (default 32 MiB). */
  maxDirectorySize?: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

async function readRange(source: ZipSource, start: number, length: number): Promise<Buffer> {
  if (length === 0) return Buffer.alloc(0);
  if (start < 0 || start + length > source.size) throw new ZipError('zip structure points outside the file');
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of await source.read({ start, end: start + length - 1 })) {
    chunks.push(chunk as Buffer);
    got += (chunk as Buffer).length;
    if (got > length) throw new ZipError('source returned more bytes than asked for');
  }
  if (got !== length) throw new ZipError('unexpected end of zip file');
  return Buffer.concat(chunks, got);
}

/** Counts what passes and fails past `max` bytes. */
class Cap extends Transform {
  size = 0;
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) return done(new ZipError(`${this.what} is larger than ${this.max} bytes uncompressed`));
    done(null, chunk);
  }
}

/** Checks size and CRC-32 of what passes against the central directory's record. */
class Verify extends Transform {
  private size = 0;
  private crc = 0;
  constructor(private readonly entry: ZipEntry) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.size !== this.entry.uncompressedSize) return done(new ZipError(`${this.entry.name}: size does not match the zip directory`));
    if (this.crc >>> 0 !== this.entry.crc32 >>> 0) return done(new ZipError(`${this.entry.name}: CRC-32 mismatch`));
    done();
  }
}

export class ZipReader {
  private constructor(
    private readonly source: ZipSource,
    readonly entries: readonly ZipEntry[],
  ) {}

  /** Reads the central directory; ZipError if the source is not a readable zip. */
  static async open(source: ZipSource, limits: ZipReaderLimits = {}): Promise<ZipReader> {
    const maxEntries = limits.maxEntries ?? 100_000;
    const maxDirectory = limits.maxDirectorySize ?? 32 << 20;
    if (source.size < EOCD_MIN) throw new ZipError('not a zip file (too short)');
    const tailLength = Math.min(source.size, EOCD_MIN + MAX_COMMENT);
    const tailStart = source.size - tailLength;
    const tail = await readRange(source, tailStart, tailLength);
    let at = -1;
    for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + EOCD_MIN + tail.readUInt16LE(i + 20) <= tail.length) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new ZipError('not a zip file (no end of central directory record)');
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);

    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locatorAt = at - 20;
      if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR) throw new ZipError('zip64 archive without its locator');
      const z64Offset = Number(tail.readBigUInt64LE(locatorAt + 8));
      const z64 = await readRange(source, z64Offset, 56);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipError('bad zip64 end of central directory record');
      count = Number(z64.readBigUInt64LE(32));
      dirSize = Number(z64.readBigUInt64LE(40));
      dirOffset = Number(z64.readBigUInt64LE(48));
    }
    if (count > maxEntries) throw new ZipError(`zip has more than ${maxEntries} entries`);
    if (dirSize > maxDirectory) throw new ZipError(`zip central directory is larger than ${maxDirectory} bytes`);
    const dir = await readRange(source, dirOffset, dirSize);
    return new ZipReader(source, ZipReader.parseDirectory(dir, count, source.size));
  }

  private static parseDirectory(dir: Buffer, count: number, fileSize: number): ZipEntry[] {
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw new ZipError('corrupt zip central directory');
      const flags = dir.readUInt16LE(p + 8);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      const end = p + 46 + nameLength + extraLength + commentLength;
      if (end > dir.length) throw new ZipError('corrupt zip central directory');
      const rawName = dir.subarray(p + 46, p + 46 + nameLength);
      // Bit 11: UTF-8 names; otherwise CP437, which agrees with UTF-8 on ASCII.
      const name = flags & 0x800 ? rawName.toString('utf8') : rawName.toString('latin1');
      const entry: ZipEntry = {
        name,
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        uncompressedSize: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
        flags,
        isDirectory: name.endsWith('/'),
      };
      ZipReader.applyZip64(entry, dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
      if (entry.localHeaderOffset + 30 + entry.compressedSize > fileSize) throw new ZipError(`${name}: entry points outside the file`);
      entries.push(entry);
      p = end;
    }
    return entries;
  }

  /** The zip64 extra field carries whichever 32-bit values were saturated, in this order. */
  private static applyZip64(entry: ZipEntry, extra: Buffer): void {
    let q = 0;
    while (q + 4 <= extra.length) {
      const id = extra.readUInt16LE(q);
      const size = extra.readUInt16LE(q + 2);
      if (id === 0x0001) {
        let r = q + 4;
        const next = () => {
          if (r + 8 > q + 4 + size) throw new ZipError(`${entry.name}: bad zip64 extra field`);
          const v = Number(extra.readBigUInt64LE(r));
          r += 8;
          return v;
        };
        if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next();
        if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
        if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
        return;
      }
      q += 4 + size;
    }
  }

  /** The entry with exactly this name, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * The entry's uncompressed bytes as a stream that fails (ZipError) past `maxSize` bytes,
   * on a size or CRC mismatch, or on corrupt data. Never inflates more than `maxSize` + one chunk.
   */
  async openEntry(entry: ZipEntry, opts: { maxSize: number }): Promise<Readable> {
    if (entry.flags & 0x1) throw new ZipError(`${entry.name}: encrypted entries are not supported`);
    if (entry.method !== 0 && entry.method !== 8) throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
    if (entry.uncompressedSize > opts.maxSize) throw new ZipError(`${entry.name} is larger than ${opts.maxSize} bytes uncompressed`);
    const local = await readRange(this.source, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw new ZipError(`${entry.name}: corrupt local file header`);
    const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataStart + entry.compressedSize > this.source.size) throw new ZipError(`${entry.name}: entry points outside the file`);
    if (entry.method === 0 && entry.compressedSize !== entry.uncompressedSize) throw new ZipError(`${entry.name}: stored entry with mismatched sizes`);

    const raw = entry.compressedSize === 0 ? Readable.from([]) : await this.source.read({ start: dataStart, end: dataStart + entry.compressedSize - 1 });
    const cap = new Cap(opts.maxSize, entry.name);
    const stages: NodeJS.ReadWriteStream[] = entry.method === 8 ? [createInflateRaw(), cap, new Verify(entry)] : [cap, new Verify(entry)];
    const out = stages[stages.length - 1] as Transform;
    pipeline([raw, ...stages] as never).catch((err: Error) => {
      const e = err instanceof ZipError ? err : new ZipError(`${entry.name}: corrupt compressed data (${err.message})`);
      out.destroy(e);
      raw.destroy();
    });
    return out;
  }

  /** The entry's uncompressed bytes, at most `maxSize` of them (ZipError beyond). */
  async readEntry(entry: ZipEntry, opts: { maxSize: number }): Promise<Buffer> {
    const stream = await this.openEntry(entry, opts);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      throw err instanceof ZipError ? err : new ZipError(`${entry.name}: ${(err as Error).message}`);
    }
    return Buffer.concat(chunks);
  }
}

/** A ZipSource over a buffer (tests, small archives already in memory). */
export function bufferZipSource(buf: Buffer): ZipSource {
  return { size: buf.length, read: async (r) => Readable.from([buf.subarray(r.start, r.end + 1)]) };
}
