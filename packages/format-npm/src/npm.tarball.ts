import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

const BLOCK = 512;
/** A package.json bigger than this is not one npm would have packed. */
const MAX_MANIFEST_BYTES = 1024 ** 2;

export class TarballError extends Error {}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarballError('tar header has an invalid size');
  return text ? parseInt(text, 8) : 0;
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

/** The package.json npm reads: the one right under the tarball's top directory (`package/`). */
function isManifest(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/');
  return parts.length === 2 && parts[1] === 'package.json';
}

/**
 * Reads `package/package.json` out of a gzipped tarball, stopping as soon as it has it.
 * A ustar reader with the pax and GNU long-name extensions that npm and other packers use.
 */
export async function readTarballManifest(tgz: Buffer): Promise<Record<string, unknown>> {
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0; // data bytes (plus padding) of an entry we don't want
  let want: { kind: 'manifest' | 'pax' | 'longname'; size: number } | undefined;
  let longName: string | undefined;

  const gunzip = Readable.from([tgz]).pipe(createGunzip());
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
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
          const data = pending.subarray(0, want.size);
          pending = pending.subarray(padded);
          const kind = want.kind;
          want = undefined;
          if (kind === 'manifest') return parseManifest(data);
          longName = kind === 'pax' ? paxPath(data) : field(data, 0, data.length);
          continue;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) throw new TarballError('the tarball has no package/package.json');
        const size = octal(header, 124, 12);
        const type = String.fromCharCode(header[156] || 48);
        const prefix = field(header, 257, 6).startsWith('ustar') ? field(header, 345, 155) : '';
        const path = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
        longName = undefined;
        if (type === 'x' || type === 'L') {
          if (size > MAX_MANIFEST_BYTES) throw new TarballError('tar header is too large');
          want = { kind: type === 'x' ? 'pax' : 'longname', size };
        } else if ((type === '0' || type === '7') && isManifest(path)) {
          if (size > MAX_MANIFEST_BYTES) throw new TarballError('package.json in the tarball is too large');
          want = { kind: 'manifest', size };
        } else {
          skip = Math.ceil(size / BLOCK) * BLOCK;
        }
      }
    }
  } catch (err) {
    if (err instanceof TarballError) throw err;
    throw new TarballError('the attachment is not a gzipped tarball');
  } finally {
    gunzip.destroy();
  }
  throw new TarballError('the tarball has no package/package.json');
}

function parseManifest(data: Buffer): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(data.toString('utf8'));
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TarballError('package.json in the tarball is not a JSON object');
}
