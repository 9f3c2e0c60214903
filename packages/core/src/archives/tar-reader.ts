import { PassThrough, Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

import { extract, type Header } from 'tar-stream';

import { ArchiveEntryCheck, type ArchiveEntryKind, type ArchiveEntryRules } from './entry-safety';

/**
 * Reads (gzipped) tar archives as they stream: gunzip, a stage that counts the bytes inflated
 * (a tar bomb stops at `maxUnpackedSize`), then tar-stream, which parses ustar, pax and GNU
 * headers. Every entry is checked (`ArchiveEntryCheck`: unsafe names, links, names held twice)
 * and the entries the caller asks for are kept, each capped; the rest are stepped over, so
 * memory stays at a chunk plus the kept entries.
 */

/** Why an archive could not be read or was refused; the message can be shown to the uploader. */
export class TarError extends Error {
  constructor(
    message: string,
    /** The name of the entry the error is about, when it is about one. */
    readonly entry?: string,
  ) {
    super(message);
    this.name = 'TarError';
  }
}

export interface TarScanOptions extends ArchiveEntryRules {
  /** Decompressed bytes the whole archive may expand to; beyond, a TarError (tar bombs). */
  maxUnpackedSize: number;
  /**
   * Entries the archive may hold (default 100,000, as the zip reader's); beyond, a TarError.
   * Each costs about 15 µs to parse and check, and empty ones gzip to a few bytes: a 7 MB
   * tarball of a million of them took 14 s of CPU within `maxUnpackedSize`.
   */
  maxEntries?: number;
  /** Regular files whose bytes to return, by path (a leading `./` removed). */
  keep?: (path: string) => boolean;
  /** The largest entry `keep` may select; a bigger one fails with a TarError before it is read. */
  maxKeptSize?: number;
  /** The input is gzipped (`.tar.gz`, `.tgz`); default true. */
  gzip?: boolean;
}

export interface TarEntry {
  path: string;
  data: Buffer;
}

const GZIP_CHUNK = 1 << 20;
const DEFAULT_MAX_ENTRIES = 100_000;

/** The parts of tar-stream's parser used here (its bundled types miss its options and optional arguments). */
interface TarParser {
  on(event: 'entry', listener: (header: Header, stream: EntryStream, next: (err?: Error) => void) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'drain' | 'close' | 'finish', listener: () => void): void;
  off(event: 'drain' | 'close', listener: () => void): void;
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(): void;
}

interface EntryStream {
  on(event: 'data', listener: (chunk: Buffer) => void): void;
  on(event: 'end' | 'error', listener: () => void): void;
}

function kindOf(type: Header['type'] | null): ArchiveEntryKind {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other'; // devices, FIFOs, and type flags no extractor agrees on
  }
}

/** tar-stream's messages, in the uploader's terms. */
function tarProblem(err: Error): TarError {
  if (err instanceof TarError) return err;
  if (/^Invalid tar header/.test(err.message)) return new TarError('not a tar archive (bad header checksum)');
  if (err.message === 'Unexpected end of data') return new TarError('the archive is truncated');
  if (err.message === 'Header exceeds max size') return new TarError('a tar extension header is too large');
  return new TarError(`corrupt tar archive (${err.message})`);
}

/** The tar-stream parser as a node Writable (node's pipeline then owns its errors and its end). */
class TarSink extends Writable {
  private readonly parser = extract({ allowUnknownFormat: true } as never) as unknown as TarParser;
  private readonly check: ArchiveEntryCheck;
  private failure: TarError | undefined;
  private entries = 0;
  readonly kept: TarEntry[] = [];

  constructor(private readonly opts: TarScanOptions) {
    super({ highWaterMark: GZIP_CHUNK });
    this.check = new ArchiveEntryCheck(opts);
    this.parser.on('entry', (header, stream, next) => this.entry(header, stream, next));
    this.parser.on('error', (err: Error) => (this.failure ??= tarProblem(err)));
  }

  private entry(header: Header, stream: EntryStream, next: (err?: Error) => void): void {
    stream.on('error', () => undefined); // the parser reports it
    const maxEntries = this.opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (++this.entries > maxEntries) return next(new TarError(`the archive has more than ${maxEntries} entries`));
    const path = header.name.replace(/^(\.\/)+/, '');
    const kind = kindOf(header.type);
    const problem = this.check.add({ name: header.name, kind, linkTarget: header.linkname ?? undefined });
    if (problem) return next(new TarError(problem, header.name));
    const keep = kind === 'file' && (this.opts.keep?.(path) ?? false);
    if (keep && header.size > (this.opts.maxKeptSize ?? Infinity)) {
      return next(new TarError(`${path} is larger than ${this.opts.maxKeptSize} bytes`, path));
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (keep) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (keep) this.kept.push({ path, data: Buffer.concat(chunks) });
      next();
    });
  }

  /** Fails the write with the parser's error, whenever it came. */
  private settle(done: (err?: Error | null) => void): void {
    done(this.failure ?? null);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.failure) return this.settle(done);
    if (this.parser.write(chunk)) return this.settle(done);
    const go = () => {
      this.parser.off('drain', go);
      this.parser.off('close', go);
      this.settle(done);
    };
    this.parser.on('drain', go);
    this.parser.on('close', go);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.failure) return this.settle(done);
    let settled = false;
    const go = () => {
      if (!settled) this.settle(done);
      settled = true;
    };
    this.parser.on('finish', go);
    this.parser.on('close', go);
    this.parser.end();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.parser.destroy();
    done(err);
  }
}

/** Passes decompressed bytes on, failing once more than `max` have passed. */
class UnpackedLimit extends Transform {
  private seen = 0;
  constructor(private readonly max: number) {
    super({ highWaterMark: GZIP_CHUNK });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) return done(new TarError(`the archive expands beyond ${this.max} bytes`));
    done(null, chunk);
  }
}

/** The stages after the raw bytes, and a function that turns their failure into a TarError. */
function stages(opts: TarScanOptions): { streams: NodeJS.ReadWriteStream[]; sink: TarSink; problem: (err: Error) => TarError } {
  const sink = new TarSink(opts);
  const gzip = opts.gzip ?? true;
  const limit = new UnpackedLimit(opts.maxUnpackedSize);
  const streams: NodeJS.ReadWriteStream[] = gzip ? [createGunzip({ chunkSize: GZIP_CHUNK }), limit] : [limit];
  let inflated = false;
  limit.once('data', () => (inflated = true));
  const problem = (err: Error) => {
    if (err instanceof TarError) return err;
    if (gzip && /^Z_/.test(String((err as NodeJS.ErrnoException).code ?? ''))) {
      return new TarError(inflated ? 'the archive is truncated or its gzip data is corrupt' : 'not a gzipped tar archive');
    }
    return tarProblem(err);
  };
  return { streams: [...streams, sink as unknown as NodeJS.ReadWriteStream], sink, problem };
}

/**
 * Reads a (gzipped) tar archive to its end, checking every entry, and returns the entries
 * `keep` selects. Broken input (not gzip, bad header, truncated), a refused entry, an oversize
 * kept entry and an archive expanding beyond `maxUnpackedSize` fail with a TarError; a failure
 * of the source itself (storage) is passed on as it is.
 */
export async function scanTar(source: Buffer | AsyncIterable<Buffer>, opts: TarScanOptions): Promise<TarEntry[]> {
  // A failure of the source is told apart by where it was thrown, not by the input stream's
  // 'error' event: Node 24's pipeline destroys every stage with the first error, so the input
  // stream reports a gunzip failure as its own too.
  let sourceError: unknown;
  async function* fromSource(): AsyncIterable<Buffer> {
    try {
      yield* source as AsyncIterable<Buffer>;
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  const input = Readable.from(Buffer.isBuffer(source) ? [source] : fromSource(), { objectMode: false });
  const { streams, sink, problem } = stages(opts);
  try {
    await pipeline([input, ...streams] as never);
  } catch (err) {
    if (sourceError !== undefined && err === sourceError) throw err;
    throw problem(err as Error);
  }
  return sink.kept;
}

/**
 * The same check as a stage of an upload: the bytes flow on unchanged (into storage) while the
 * archive is read beside them, once; the stage fails, and with it the upload, when the archive
 * is refused. `problem()` then holds the TarError to show (whatever error the upload reports).
 */
export function tarScanStage(opts: TarScanOptions): { stage: Transform; problem: () => TarError | undefined; kept: () => TarEntry[] } {
  const head = new PassThrough({ highWaterMark: GZIP_CHUNK });
  const { streams, sink, problem } = stages(opts);
  let refused: TarError | undefined;
  let stopped = false; // the upload ended first (client gone, size cap): not the archive's fault
  const scanned = pipeline([head, ...streams] as never).catch((err: Error) => {
    if (!stopped) refused = problem(err);
  });
  const checkStopped = () => new TarError('the archive check stopped');
  const stage = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const fail = () => void scanned.then(() => done(refused ?? checkStopped()));
      if (refused || head.destroyed) return fail();
      if (head.write(chunk)) return done(null, chunk);
      const go = () => {
        head.off('drain', go);
        head.off('close', go);
        if (head.destroyed) fail();
        else done(null, chunk);
      };
      head.on('drain', go);
      head.on('close', go);
    },
    flush(done) {
      head.end();
      void scanned.then(() => done(refused ?? null));
    },
    destroy(err, done) {
      if (!refused) stopped = true;
      head.destroy();
      done(err);
    },
  });
  return { stage, problem: () => refused, kept: () => sink.kept };
}
