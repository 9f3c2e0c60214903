import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';

import type { ByteRange } from '../storage/blob-store';
import { TimeSlice } from '../time-slice';
import { ArchiveEntryCheck, type ArchiveEntryKind, type ArchiveEntryRules } from './entry-safety';

/**
 * Reads zip archives (wheels, nupkgs, jars, composer dists, go module zips) through a
 * random-access source, such as `FileStorage.open(sha256, range)`: only the central directory
 * and the entries asked for are read, so an archive is never loaded whole. Entries may be
 * stored or deflated; extraction stops at a hard cap on the decompressed size (zip-bomb safe)
 * and checks the entry's CRC-32 and size. The central directory is walked by its declared
 * size: it must end where the end record starts and hold whole records only, as many as the end
 * record counts (unzip tools list every record in it, counted or not). Entries whose bytes
 * overlap (many directory records pointing at one deflated stream: a bomb whose cost grows with
 * the entry count) are refused when the archive is opened, and again against each local header
 * as it is read. Every loop over the entries (the directory, the checks, the verification)
 * pauses for the event loop every few milliseconds (`TimeSlice`): a directory of a million
 * entries costs its CPU time without stalling every other request.
 *
 * Kept rather than yauzl (measured with yauzl 3.4.0 through `fromRandomAccessReader`, on the
 * hostile archives of test/zip-reader.spec.ts built with testkit's buildZip): yauzl opened and
 * listed all of them. It accepted 401 directory records aliasing one 32 MiB deflated stream
 * (20 of them extracted: 640 MiB inflated from a 57 KB file), an entry whose data runs into the
 * next local header, a stored entry whose CRC-32 does not match (it does not check CRCs), and
 * records past the count the end record declares (silently ignored, while unzip tools list
 * them). A 200,000-entry directory took 400,002 reads from the source (two per record: one
 * ranged GET each on S3) and 87 s, against 3 reads and 2.2 s here, on the same busy host.
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
  /** File type and permission bits (`st_mode`) of an entry made on Unix that records them. */
  unixMode?: number;
  /** What the entry unpacks to, by its name and Unix file type (`file` when none is recorded). */
  kind: ArchiveEntryKind;
}

export class ZipError extends Error {
  constructor(
    message: string,
    /** The name of the entry the error is about, when it is about one. */
    readonly entry?: string,
  ) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipReaderOptions {
  /** Entries in the central directory (default 100,000). */
  maxEntries?: number;
  /** Bytes of the central directory (default 32 MiB). */
  maxDirectorySize?: number;
  /**
   * Read every name as UTF-8 whatever its flag says, and refuse names that are not (as the
   * go command does). Otherwise a name is UTF-8 only when its flag says so.
   */
  utf8Names?: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_MIN = 22;
/** The zip64 end record without its (unused) extensible data, as Info-ZIP, Python and Go write it. */
const ZIP64_EOCD_SIZE = 56;
const MAX_COMMENT = 0xffff;
/** "Version made by" host system of archives made on Unix. */
const HOST_UNIX = 3;
const S_IFMT = 0o170000;
/** By the `st_mode` type bits; none (wheel's RECORD is written with permission bits only) is a regular file, as Go reads it. */
const FILE_TYPES: Record<number, ArchiveEntryKind> = { 0: 'file', 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' };
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** zlib's default output chunk (16 KiB) costs about 8 times the CPU of this one on large entries. */
const INFLATE_CHUNK = 256 * 1024;
/**
 * verifyEntries checks an entry whose data is at most this long (and declares at most
 * SMALL_UNCOMPRESSED) in one synchronous step; a stream per entry costs far more than the
 * work over thousands of small files.
 */
const SMALL_COMPRESSED = 64 * 1024;
const SMALL_UNCOMPRESSED = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

const entryError = (entry: ZipEntry, detail: string) => new ZipError(`${entry.name}: ${detail}`, entry.name);
const tooLarge = (entry: ZipEntry, max: number) => new ZipError(`${entry.name} is larger than ${max} bytes uncompressed`, entry.name);

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

/**
 * Follows an entry's uncompressed bytes as they come: fails with `tooLarge()` once more than
 * `max` have passed, and at the end unless their size and CRC-32 match the central directory.
 */
class DataCheck {
  private size = 0;
  private crc = 0;
  constructor(
    private readonly entry: ZipEntry,
    private readonly max: number,
    private readonly tooLarge: () => ZipError,
  ) {}

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.max) throw this.tooLarge();
    this.crc = crc32(chunk, this.crc);
  }

  end(): void {
    if (this.size !== this.entry.uncompressedSize) throw entryError(this.entry, 'size does not match the zip directory');
    if (this.crc >>> 0 !== this.entry.crc32 >>> 0) throw entryError(this.entry, 'CRC-32 mismatch');
  }
}

/** A DataCheck as a stream stage. */
class Checked extends Transform {
  constructor(private readonly check: DataCheck) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.check.add(chunk);
    } catch (err) {
      return done(err as Error);
    }
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    try {
      this.check.end();
    } catch (err) {
      return done(err as Error);
    }
    done();
  }
}

/**
 * Exact reads over one forward-only stream of the archive, starting at byte `pos`. What has
 * arrived is read in place (`bytes` from `offset`), so an entry whose header and data are
 * already here costs no await and no copy.
 */
class Cursor {
  /** The bytes that have arrived; those before `offset` are consumed. */
  bytes: Buffer = EMPTY;
  offset = 0;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    private readonly stream: Readable,
    /** Where in the archive `bytes[offset]` is. */
    public pos: number,
  ) {
    this.chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get available(): number {
    return this.bytes.length - this.offset;
  }

  /** Waits until at least `n` bytes are available. */
  async need(n: number): Promise<void> {
    while (this.available < n) {
      const next = await this.chunks.next();
      if (next.done) throw new ZipError('unexpected end of zip file');
      this.bytes = this.available ? Buffer.concat([this.bytes.subarray(this.offset), next.value]) : next.value;
      this.offset = 0;
    }
  }

  /** Consumes `n` available bytes; the view is valid until the next read. */
  consume(n: number): Buffer {
    const out = n === 0 ? EMPTY : this.bytes.subarray(this.offset, this.offset + n);
    this.advance(n);
    return out;
  }

  /** Consumes `n` available bytes. */
  advance(n: number): void {
    this.offset += n;
    this.pos += n;
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0;) {
      if (!this.available) await this.need(1);
      const step = Math.min(left, this.available);
      this.advance(step);
      left -= step;
    }
  }

  /** The next `n` bytes, as they arrive. */
  async *take(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0;) {
      if (!this.available) await this.need(1);
      const c = this.consume(Math.min(left, this.available));
      left -= c.length;
      yield c;
    }
  }

  close(): void {
    this.stream.destroy();
  }
}

/** Refuses what cannot be extracted before any of the entry's data is read. */
function checkExtractable(entry: ZipEntry): void {
  if (entry.flags & 0x1) throw entryError(entry, 'encrypted entries are not supported');
  if (entry.method !== 0 && entry.method !== 8) throw entryError(entry, `compression method ${entry.method} is not supported`);
  if (entry.method === 0 && entry.compressedSize !== entry.uncompressedSize) throw entryError(entry, 'stored entry with mismatched sizes');
}

function kindOf(isDirectory: boolean, unixMode: number | undefined): ArchiveEntryKind {
  if (isDirectory) return 'directory';
  return unixMode === undefined ? 'file' : (FILE_TYPES[unixMode & S_IFMT] ?? 'other');
}

/**
 * Where the entry's data starts, from its 30-byte local header at `at` in `bytes`; its data
 * must end by `limit`, where the next entry (or the central directory) starts.
 */
function dataStart(entry: ZipEntry, bytes: Buffer, at: number, limit: number): number {
  if (bytes.readUInt32LE(at) !== LOCAL) throw entryError(entry, 'corrupt local file header');
  const start = entry.localHeaderOffset + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
  if (start + entry.compressedSize > limit) throw entryError(entry, 'overlaps another entry');
  return start;
}

/** The entries' indexes in file order (by local header offset), or undefined when they are listed so already. */
function fileOrder(entries: readonly ZipEntry[]): Uint32Array | undefined {
  let ordered = true;
  for (let i = 1; i < entries.length && ordered; i++) ordered = entries[i].localHeaderOffset >= entries[i - 1].localHeaderOffset;
  if (ordered) return undefined;
  // Offset and index packed into one number, so the native numeric sort (no callback per
  // comparison) puts them in order; equal offsets stay in directory order.
  const radix = 2 ** 21;
  if (entries.length <= radix && entries.every((e) => e.localHeaderOffset < 2 ** 32)) {
    const keys = Float64Array.from(entries, (e, i) => e.localHeaderOffset * radix + i).sort();
    return Uint32Array.from(keys, (key) => key % radix);
  }
  return Uint32Array.from(entries, (_, i) => i).sort((x, y) => entries[x].localHeaderOffset - entries[y].localHeaderOffset || x - y);
}

/** Where each entry's bytes must end, found by the offset of its local header. */
class EntryLimits {
  constructor(
    /** Every entry's local header offset, ascending. */
    private readonly offsets: Float64Array,
    /** By position in `offsets`: where that entry's bytes must end. */
    private readonly limits: Float64Array,
  ) {}

  /** The limit of the entry whose local header is at `offset`; undefined when none is. */
  of(offset: number): number | undefined {
    let low = 0;
    let high = this.offsets.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.offsets[mid] < offset) low = mid + 1;
      else if (this.offsets[mid] > offset) high = mid - 1;
      else return this.limits[mid];
    }
    return undefined;
  }
}

/**
 * Where each entry's bytes must end: at the next entry's local header, the last at the central
 * directory. Refuses entries whose header, name and data (as far as the central directory
 * tells; the local extra field is checked when read) overlap.
 */
async function entryLimits(
  entries: readonly ZipEntry[],
  nameLengths: Uint16Array,
  directoryOffset: number,
  slice: TimeSlice,
): Promise<EntryLimits> {
  const order = fileOrder(entries);
  const indexAt = (i: number) => (order ? order[i] : i);
  const offsets = new Float64Array(entries.length);
  for (let i = 0; i < entries.length; i++) offsets[i] = entries[indexAt(i)].localHeaderOffset;
  const limits = new Float64Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    if (slice.due()) await slice.pause();
    const index = indexAt(i);
    const entry = entries[index];
    const last = i + 1 === entries.length;
    limits[i] = last ? directoryOffset : offsets[i + 1];
    if (entry.localHeaderOffset + 30 + nameLengths[index] + entry.compressedSize > limits[i]) {
      throw last ? entryError(entry, 'overlaps the zip central directory') : entryError(entries[indexAt(i + 1)], 'overlaps another entry');
    }
  }
  return new EntryLimits(offsets, limits);
}

const corruptData = (entry: ZipEntry, err: Error) => entryError(entry, `corrupt compressed data (${err.message})`);

/** The entry's bytes as a stream, from its raw data through inflate and `check`. */
function uncompressed(entry: ZipEntry, raw: Readable, check: DataCheck): Readable {
  const checked = new Checked(check);
  const stages: NodeJS.ReadWriteStream[] = entry.method === 8 ? [createInflateRaw({ chunkSize: INFLATE_CHUNK }), checked] : [checked];
  const out = stages[stages.length - 1] as Transform;
  pipeline([raw, ...stages] as never).catch((err: Error) => {
    out.destroy(err instanceof ZipError ? err : corruptData(entry, err));
    raw.destroy();
  });
  return out;
}

/**
 * Hands the entry's bytes, from its raw data through inflate, to `take`, which throws to stop.
 * A stream pipeline per entry would cost several times as much over thousands of small entries.
 */
async function eachUncompressed(entry: ZipEntry, raw: AsyncIterable<Buffer>, take: (chunk: Buffer) => void): Promise<void> {
  if (entry.method === 0) {
    for await (const chunk of raw) take(chunk);
    return;
  }
  const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK });
  let failure: Error | undefined;
  inflate.on('data', (chunk: Buffer) => {
    if (failure) return;
    try {
      take(chunk);
    } catch (err) {
      failure = err as Error;
    }
  });
  const ended = new Promise<void>((resolve) => {
    inflate.on('end', resolve);
    inflate.on('error', (err) => {
      failure ??= corruptData(entry, err);
      resolve();
    });
  });
  for await (const chunk of raw) {
    if (failure) break;
    if (!inflate.write(chunk)) await Promise.race([new Promise((resolve) => inflate.once('drain', resolve)), ended]);
  }
  if (!failure) {
    inflate.end();
    await ended;
  }
  inflate.destroy();
  if (failure) throw failure;
}

/** Reads a stream from `uncompressed` to its end. */
async function readAll(entry: ZipEntry, stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (err) {
    throw err instanceof ZipError ? err : entryError(entry, (err as Error).message);
  }
  return Buffer.concat(chunks);
}

export class ZipReader {
  private constructor(
    private readonly source: ZipSource,
    readonly entries: readonly ZipEntry[],
    private readonly limits: EntryLimits,
  ) {}

  /** Reads the central directory; ZipError if the source is not a readable zip. */
  static async open(source: ZipSource, options: ZipReaderOptions = {}): Promise<ZipReader> {
    const maxEntries = options.maxEntries ?? 100_000;
    const maxDirectory = options.maxDirectorySize ?? 32 << 20;
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
    if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) throw new ZipError('multi-disk zip files are not supported');
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    // Where the records after the directory (zip64's, or the end record) start.
    let dirEnd = tailStart + at;
    let zip64 = false;

    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locatorAt = at - 20;
      if (locatorAt < 0 || tail.readUInt32LE(locatorAt) !== ZIP64_LOCATOR) throw new ZipError('zip64 archive without its locator');
      const z64Offset = Number(tail.readBigUInt64LE(locatorAt + 8));
      // Python's zipfile reads the zip64 record just before the locator, whatever the locator says.
      if (z64Offset + ZIP64_EOCD_SIZE !== tailStart + locatorAt)
        throw new ZipError('zip64 end of central directory record is not where its locator is');
      const z64 = await readRange(source, z64Offset, ZIP64_EOCD_SIZE);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipError('bad zip64 end of central directory record');
      count = Number(z64.readBigUInt64LE(32));
      dirSize = Number(z64.readBigUInt64LE(40));
      dirOffset = Number(z64.readBigUInt64LE(48));
      dirEnd = z64Offset;
      zip64 = true;
    }
    if (count > maxEntries) throw new ZipError(`zip has more than ${maxEntries} entries`);
    if (dirSize > maxDirectory) throw new ZipError(`zip central directory is larger than ${maxDirectory} bytes`);
    // Each record takes at least 46 bytes: a count the directory cannot hold is not believed.
    if (count * 46 > dirSize) throw new ZipError('corrupt zip central directory');
    if (dirOffset + dirSize > source.size) throw new ZipError('zip structure points outside the file');
    // Info-ZIP, Python and Go find the directory by its size back from the end records: one
    // that ends elsewhere would be a different directory to them than to this reader.
    if (dirOffset + dirSize !== dirEnd) throw new ZipError('zip central directory does not end where its end record starts');
    const raw = await readRange(source, dirOffset, dirSize);
    const slice = new TimeSlice();
    const { entries, nameLengths } = await ZipReader.parseDirectory(raw, maxEntries, source.size, options.utf8Names ?? false, slice);
    // Without zip64 the end record's 16-bit count wraps past 65,535 entries; nothing else may differ.
    if (zip64 ? entries.length !== count : entries.length % 0x10000 !== count) {
      throw new ZipError(`zip central directory holds ${entries.length} entries but its end record declares ${count}`);
    }
    return new ZipReader(source, entries, await entryLimits(entries, nameLengths, dirOffset, slice));
  }

  /**
   * Every record of the central directory `dir`, which must be whole records and nothing else;
   * `nameLengths` holds each one's name length in bytes. Refuses more than `maxEntries` as soon
   * as it finds them.
   */
  private static async parseDirectory(
    dir: Buffer,
    maxEntries: number,
    fileSize: number,
    utf8Names: boolean,
    slice: TimeSlice,
  ): Promise<{ entries: ZipEntry[]; nameLengths: Uint16Array }> {
    const entries: ZipEntry[] = [];
    // Each record takes at least 46 bytes.
    const nameLengths = new Uint16Array(Math.min(Math.floor(dir.length / 46), maxEntries));
    let p = 0;
    for (let n = 0; p < dir.length; n++) {
      if (slice.due()) await slice.pause();
      if (n >= maxEntries) throw new ZipError(`zip has more than ${maxEntries} entries`);
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) {
        throw new ZipError(`corrupt zip central directory (${dir.length - p} bytes at its end are not a central directory record)`);
      }
      const madeBy = dir.readUInt16LE(p + 4) >> 8;
      const flags = dir.readUInt16LE(p + 8);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      const mode = dir.readUInt32LE(p + 38) >>> 16;
      const nameStart = p + 46;
      const end = nameStart + nameLength + extraLength + commentLength;
      if (end > dir.length)
        throw new ZipError('corrupt zip central directory (its last record runs past the size its end record declares)');
      const name = ZipReader.decodeName(dir, nameStart, nameStart + nameLength, flags, utf8Names);
      const unixMode = madeBy === HOST_UNIX && mode !== 0 ? mode : undefined;
      const isDirectory = name.endsWith('/');
      const entry: ZipEntry = {
        name,
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        uncompressedSize: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
        flags,
        isDirectory,
        unixMode,
        kind: kindOf(isDirectory, unixMode),
      };
      if (entry.uncompressedSize === 0xffffffff || entry.compressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
        ZipReader.applyZip64(entry, dir.subarray(nameStart + nameLength, nameStart + nameLength + extraLength));
      }
      if (entry.localHeaderOffset + 30 + entry.compressedSize > fileSize) throw entryError(entry, 'entry points outside the file');
      nameLengths[n] = nameLength;
      entries.push(entry);
      p = end;
    }
    return { entries, nameLengths };
  }

  /** The name in `dir[start, end)`, decoded in place (a view per name costs more than the name). */
  private static decodeName(dir: Buffer, start: number, end: number, flags: number, utf8Names: boolean): string {
    if (utf8Names) {
      const name = dir.toString('utf8', start, end);
      // U+FFFD stands for bytes that are not UTF-8, unless the name spells it: only then look closer.
      if (!name.includes('\uFFFD')) return name;
      try {
        return strictUtf8.decode(dir.subarray(start, end));
      } catch {
        throw new ZipError('zip entry name is not valid UTF-8');
      }
    }
    // Bit 11: UTF-8 names; otherwise CP437, which agrees with UTF-8 on ASCII.
    return dir.toString(flags & 0x800 ? 'utf8' : 'latin1', start, end);
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
          if (r + 8 > q + 4 + size) throw entryError(entry, 'bad zip64 extra field');
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
   * Refuses (ZipError naming the entry) an archive a client could not unpack safely: see
   * `ArchiveEntryCheck` (unsafe names, links and special files, a name held twice).
   */
  async checkEntries(rules?: ArchiveEntryRules): Promise<void> {
    const check = new ArchiveEntryCheck(rules);
    const slice = new TimeSlice();
    for (const e of this.entries) {
      if (slice.due()) await slice.pause();
      const problem = check.add(e);
      if (problem) throw new ZipError(problem, e.name);
    }
  }

  /** Where the entry's bytes must end; ZipError for an entry this archive's directory does not list. */
  private limitOf(entry: ZipEntry): number {
    const limit = this.limits.of(entry.localHeaderOffset);
    if (limit === undefined) throw entryError(entry, 'no entry of this archive starts there');
    return limit;
  }

  /**
   * The entry's uncompressed bytes as a stream that fails (ZipError) past `maxSize` bytes,
   * on a size or CRC mismatch, or on corrupt data. Never inflates more than `maxSize` + one chunk.
   */
  async openEntry(entry: ZipEntry, opts: { maxSize: number }): Promise<Readable> {
    checkExtractable(entry);
    if (entry.uncompressedSize > opts.maxSize) throw tooLarge(entry, opts.maxSize);
    const start = dataStart(entry, await readRange(this.source, entry.localHeaderOffset, 30), 0, this.limitOf(entry));
    const raw = entry.compressedSize === 0 ? Readable.from([]) : await this.source.read({ start, end: start + entry.compressedSize - 1 });
    return uncompressed(entry, raw, new DataCheck(entry, opts.maxSize, () => tooLarge(entry, opts.maxSize)));
  }

  /** The entry's uncompressed bytes, at most `maxSize` of them (ZipError beyond). */
  async readEntry(entry: ZipEntry, opts: { maxSize: number }): Promise<Buffer> {
    return readAll(entry, await this.openEntry(entry, opts));
  }

  /**
   * Checks the data of `entries` against their declared sizes and CRC-32s in one forward read
   * of the archive (one source read in all, where reading entry by entry costs one each), and
   * refuses entries whose data overlap. Returns the bytes of those `keep` selects, each at
   * most `maxKeptSize`.
   */
  async verifyEntries(
    entries: readonly ZipEntry[],
    opts?: { keep: (entry: ZipEntry) => boolean; maxKeptSize: number },
  ): Promise<Map<ZipEntry, Buffer>> {
    const kept = new Map<ZipEntry, Buffer>();
    const order = fileOrder(entries);
    const ordered = order ? Array.from(order, (i) => entries[i]) : entries;
    if (!ordered.length) return kept;
    const first = ordered[0].localHeaderOffset;
    const cursor = new Cursor(await this.source.read({ start: first, end: this.source.size - 1 }), first);
    // An entry's data may take a while (1 MiB inflated in one step): the clock is read for each.
    const slice = new TimeSlice(10, 1);
    try {
      for (const entry of ordered) {
        if (slice.due()) await slice.pause();
        checkExtractable(entry);
        const wanted = opts?.keep(entry) ?? false;
        if (wanted && entry.uncompressedSize > opts!.maxKeptSize) throw tooLarge(entry, opts!.maxKeptSize);
        if (entry.localHeaderOffset < cursor.pos) throw entryError(entry, 'overlaps another entry');
        await cursor.skip(entry.localHeaderOffset - cursor.pos);
        if (cursor.available < 30) await cursor.need(30);
        await cursor.skip(dataStart(entry, cursor.bytes, cursor.offset, this.limitOf(entry)) - cursor.pos);
        const data = await verifiedData(entry, cursor, wanted);
        if (wanted) kept.set(entry, data!);
      }
    } finally {
      cursor.close();
    }
    return kept;
  }
}

const largerThanDeclared = (entry: ZipEntry) => entryError(entry, 'uncompressed data is larger than its declared size');

/**
 * Checks the entry's data at the cursor, inflated, against its declared size and CRC-32, and
 * returns it when `wanted`. A small entry is checked in one synchronous step on the bytes that
 * have arrived; a larger one streams through zlib and stops past its declared size.
 */
async function verifiedData(entry: ZipEntry, cursor: Cursor, wanted: boolean): Promise<Buffer | undefined> {
  const size = entry.compressedSize;
  if (size <= SMALL_COMPRESSED && entry.uncompressedSize <= SMALL_UNCOMPRESSED) {
    if (cursor.available < size) await cursor.need(size);
    const raw = cursor.consume(size);
    const data = entry.method === 0 ? raw : inflateSmall(entry, raw);
    if (data.length > entry.uncompressedSize) throw largerThanDeclared(entry);
    if (data.length !== entry.uncompressedSize) throw entryError(entry, 'size does not match the zip directory');
    if (crc32(data) >>> 0 !== entry.crc32 >>> 0) throw entryError(entry, 'CRC-32 mismatch');
    return wanted ? Buffer.from(data) : undefined;
  }
  const check = new DataCheck(entry, entry.uncompressedSize, () => largerThanDeclared(entry));
  const chunks: Buffer[] = [];
  await eachUncompressed(entry, cursor.take(size), (chunk) => {
    check.add(chunk);
    if (wanted) chunks.push(chunk);
  });
  check.end();
  return wanted ? Buffer.concat(chunks) : undefined;
}

/** A small entry's deflated data, inflated at once; never more than one byte past its declared size. */
function inflateSmall(entry: ZipEntry, raw: Buffer): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw largerThanDeclared(entry);
    throw corruptData(entry, err as Error);
  }
}

/** A ZipSource over a buffer (tests, small archives already in memory). */
export function bufferZipSource(buf: Buffer): ZipSource {
  return { size: buf.length, read: async (r) => Readable.from([buf.subarray(r.start, r.end + 1)]) };
}
