import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const BLOCK = 512;
/** pax / GNU long-name headers larger than this are refused (they only hold a path). */
const MAX_EXTENSION_HEADER = 1024 ** 2;

/** Why an archive could not be read; the message can be shown to the uploader. */
export class TarError extends Error {}

export interface TarScanOptions {
  /** Which entry to return: called with each regular file's path (a leading `./` removed). */
  match: (path: string) => boolean;
  /** The matched entry's largest size; a bigger one fails with a TarError (before it is read). */
  maxEntrySize: number;
  /**
   * The most (decompressed) archive bytes read looking for the entry: a tar bomb stops here
   * with a TarError. Default: no limit.
   */
  maxScanBytes?: number;
  /** The input is gzipped (`.tar.gz`, `.tgz`); default true. */
  gzip?: boolean;
}

export interface TarEntry {
  path: string;
  data: Buffer;
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarError('tar header has an invalid size');
  return text ? parseInt(text, 8) : 0;
}

/** The header block's checksum: the byte sum with the checksum field read as spaces. */
function checksumOk(header: Buffer): boolean {
  const stored = field(header, 148, 8).trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
  return sum === parseInt(stored, 8);
}

/** `path=…` from a pax extended header (records are `<len> <key>=<value>\n`). */
function paxPath(data: Buffer): string | undefined {
  let text = data.toString('utf8');
  while (text.length) {
    const space = text.indexOf(' ');
    const len = Number(text.slice(0, space));
    if (!(len > 0)) return undefined;
    const record = text.slice(space + 1, len - 1);
    if (record.startsWith('path=')) return record.slice(5);
    text = text.slice(len);
  }
  return undefined;
}

function chunksOf(source: Buffer | AsyncIterable<Buffer>): Iterable<Buffer> | AsyncIterable<Buffer> {
  return Buffer.isBuffer(source) ? [source] : source;
}

/**
 * Streams a (gzipped) tar archive up to the first regular file `match` accepts and returns
 * it, or null when the archive ends without one. A ustar reader with the pax and GNU
 * long-name extensions; entries before the match are stepped over without being kept, so
 * memory stays at one chunk plus the entry. Broken input (not gzip, bad header, truncated)
 * fails with a TarError, as do an oversize entry and a scan past `maxScanBytes`.
 */
export async function findTarEntry(source: Buffer | AsyncIterable<Buffer>, opts: TarScanOptions): Promise<TarEntry | null> {
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0; // data bytes (plus padding) of an entry we don't want
  let want: { kind: 'entry' | 'pax' | 'longname'; size: number; path: string } | undefined;
  let longName: string | undefined;
  let scanned = 0;
  const gzip = opts.gzip ?? true;
  const input = Readable.from(chunksOf(source), { objectMode: false });
  let inputError: unknown;
  input.on('error', (err) => (inputError = err));
  const gunzip = gzip ? input.pipe(createGunzip()) : undefined;
  if (gunzip) input.on('error', (err) => gunzip.destroy(err));
  try {
    for await (const chunk of (gunzip ?? input) as AsyncIterable<Buffer>) {
      scanned += chunk.length;
      if (opts.maxScanBytes !== undefined && scanned > opts.maxScanBytes) {
        throw new TarError(`the archive expands beyond ${opts.maxScanBytes} bytes before the entry sought`);
      }
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (skip) {
          const n = Math.min(skip, pending.length);
          pending = pending.subarray(n);
          skip -= n;
          if (skip) break;
        }
        if (want) {
          const padded = Math.ceil(want.size / BLOCK) * BLOCK;
          if (pending.length < padded) break;
          const data = Buffer.from(pending.subarray(0, want.size));
          pending = pending.subarray(padded);
          const w = want;
          want = undefined;
          if (w.kind === 'entry') return { path: w.path, data };
          longName = w.kind === 'pax' ? paxPath(data) : field(data, 0, data.length);
          continue;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) return null; // end of archive
        if (!checksumOk(header)) throw new TarError('not a tar archive (bad header checksum)');
        const size = octal(header, 124, 12);
        const type = String.fromCharCode(header[156] || 48);
        const prefix = field(header, 257, 6).startsWith('ustar') ? field(header, 345, 155) : '';
        const path = (longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100))).replace(/^\.\//, '');
        longName = undefined;
        if (type === 'x' || type === 'L') {
          if (size > MAX_EXTENSION_HEADER) throw new TarError('tar header is too large');
          want = { kind: type === 'x' ? 'pax' : 'longname', size, path };
        } else if ((type === '0' || type === '7') && opts.match(path)) {
          if (size > opts.maxEntrySize) throw new TarError(`${path} is larger than ${opts.maxEntrySize} bytes`);
          want = { kind: 'entry', size, path };
        } else {
          skip = Math.ceil(size / BLOCK) * BLOCK;
        }
      }
    }
  } catch (err) {
    if (err instanceof TarError) throw err;
    if (inputError) throw inputError; // the source failed (storage), not the archive
    throw new TarError(gzip ? 'not a gzipped tar archive' : 'not a tar archive');
  } finally {
    gunzip?.destroy();
    input.destroy();
  }
  // Some packers leave out the end-of-archive blocks; an entry cut short is another matter.
  if (skip || want || pending.length) throw new TarError('the archive is truncated');
  return null;
}
