import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';

// Archives and multipart bodies built byte by byte, so that tests can also make the broken
// ones (symlinks, lying sizes, paths outside the package) that no tool would write.

export interface ZipInput {
  name: string;
  data?: Buffer | string;
  /** Unix mode (type and permission bits); a symlink is 0o120777. Default: a directory for a name ending in `/`, else a file. */
  mode?: number;
  /** 8 deflate, 0 stored; default: `ZipOptions.method`, else deflate unless the data is empty. */
  method?: 0 | 8;
  /** Overrides the uncompressed size written in the headers. */
  declaredSize?: number;
}

export interface ZipOptions {
  /** The compression of every entry that does not name its own. */
  method?: 0 | 8;
  /**
   * Past 65,534 entries, write the count modulo 65,536 in the end record and no zip64 records
   * (as writers without zip64 do), instead of the zip64 records.
   */
  wrapCount?: boolean;
}

/**
 * A zip file with the given entries (local headers, central directory, end record), made on
 * Unix so that the modes count. Entries as a list, or as a map of path → content.
 */
export function buildZip(entries: ZipInput[] | Record<string, Buffer | string>, opts: ZipOptions = {}): Buffer {
  const inputs: ZipInput[] = Array.isArray(entries) ? entries : Object.entries(entries).map(([name, data]) => ({ name, data }));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const input of inputs) {
    const data = Buffer.from(input.data ?? '');
    const method = input.method ?? opts.method ?? (data.length ? 8 : 0);
    const packed = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(input.name, 'utf8');
    const crc = crc32(data) >>> 0;
    const size = input.declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    const mode = input.mode ?? (input.name.endsWith('/') ? 0o040755 : 0o100644);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  return Buffer.concat([...locals, dir, ...endRecords(inputs.length, dir.length, offset, opts.wrapCount ?? false)]);
}

/** The end of central directory record; behind zip64's record and locator when the count needs them. */
function endRecords(count: number, dirSize: number, dirOffset: number, wrapCount: boolean): Buffer[] {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  if (count < 0xffff || wrapCount) {
    end.writeUInt16LE(count % 0x10000, 8);
    end.writeUInt16LE(count % 0x10000, 10);
    end.writeUInt32LE(dirSize, 12);
    end.writeUInt32LE(dirOffset, 16);
    return [end];
  }
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  const zip64 = Buffer.alloc(56);
  zip64.writeUInt32LE(0x06064b50, 0);
  zip64.writeBigUInt64LE(44n, 4);
  zip64.writeUInt16LE(45, 12);
  zip64.writeUInt16LE(45, 14);
  zip64.writeBigUInt64LE(BigInt(count), 24);
  zip64.writeBigUInt64LE(BigInt(count), 32);
  zip64.writeBigUInt64LE(BigInt(dirSize), 40);
  zip64.writeBigUInt64LE(BigInt(dirOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(dirOffset + dirSize), 8);
  locator.writeUInt32LE(1, 16);
  return [zip64, locator, end];
}

/**
 * `zip` with the central record of `entry` copied under each of `aliases`, every copy pointing
 * at the same local entry: a small archive that lists many entries all inflating one stream.
 */
export function aliasZipEntry(zip: Buffer, entry: string, aliases: string[]): Buffer {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const dirStart = zip.readUInt32LE(end + 16);
  const dir = zip.subarray(dirStart, end);
  let record: Buffer | undefined;
  for (let p = 0; p < dir.length && !record;) {
    const length = 46 + dir.readUInt16LE(p + 28) + dir.readUInt16LE(p + 30) + dir.readUInt16LE(p + 32);
    if (dir.toString('utf8', p + 46, p + 46 + dir.readUInt16LE(p + 28)) === entry) record = dir.subarray(p, p + length);
    p += length;
  }
  if (!record) throw new Error(`no entry ${entry} in the zip`);
  const copies = aliases.map((name) => {
    const copy = Buffer.concat([record.subarray(0, 46), Buffer.from(name)]);
    copy.writeUInt16LE(Buffer.byteLength(name), 28);
    copy.writeUInt16LE(0, 30);
    copy.writeUInt16LE(0, 32);
    return copy;
  });
  const newDir = Buffer.concat([dir, ...copies]);
  const eocd = Buffer.from(zip.subarray(end));
  const count = eocd.readUInt16LE(10) + aliases.length;
  eocd.writeUInt16LE(count, 8);
  eocd.writeUInt16LE(count, 10);
  eocd.writeUInt32LE(newDir.length, 12);
  return Buffer.concat([zip.subarray(0, dirStart), newDir, eocd]);
}

export interface TarInput {
  name: string;
  data?: Buffer | string;
  /** The ustar type flag: '0' file (default), '1' hard link, '2' symlink, '3' char device, '5' directory, '6' FIFO. */
  type?: string;
  /** The target of a link. */
  link?: string;
  /** A pax header in front of the entry whose `path` record overrides `name`. */
  paxPath?: string;
}

/** One ustar header block (type '0' file, '5' directory, '2' symlink, '1' hard link…). */
export function tarHeader(name: string, size: number, type = '0', link = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const tarPadded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);

/** The ustar blocks of `entries`, without the end-of-archive blocks. */
function tarBlocks(entries: TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.paxPath !== undefined) {
      const body = ` path=${e.paxPath}\n`;
      let length = body.length;
      while (`${length}${body}`.length !== length) length = `${length}${body}`.length;
      const record = Buffer.from(`${length}${body}`);
      parts.push(tarHeader('PaxHeader', record.length, 'x'), tarPadded(record));
    }
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeader(e.name, data.length, e.type, e.link), tarPadded(data));
  }
  return Buffer.concat(parts);
}

/**
 * A gzipped tar (ustar, with pax path headers where asked) of the given entries, as a list or
 * a map of path → content; `gzip: false` leaves it a plain tar, `end: false` without its end blocks.
 */
export function buildTar(entries: TarInput[] | Record<string, Buffer | string>, opts: { gzip?: boolean; end?: boolean } = {}): Buffer {
  const inputs: TarInput[] = Array.isArray(entries) ? entries : Object.entries(entries).map(([name, data]) => ({ name, data }));
  const tar = Buffer.concat([tarBlocks(inputs), Buffer.alloc(opts.end === false ? 0 : 1024)]);
  return opts.gzip === false ? tar : gzipSync(tar);
}

/**
 * A tar bomb: a valid gzipped tar whose first entry `name` holds `mib` MiB of zeros, then
 * `after`. Built from one deflated MiB repeated (each block flushed, so it stands alone), so
 * several GiB of content cost about a KiB per MiB and no memory.
 */
export function zeroTarGz(name: string, mib: number, after: TarInput[] = []): Buffer {
  const MiB = 1 << 20;
  const zeros = Buffer.alloc(MiB);
  const flushed = (data: Buffer) => deflateRawSync(data, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const head = tarHeader(name, mib * MiB);
  const tail = Buffer.concat([tarBlocks(after), Buffer.alloc(1024)]);
  const zeroBlock = flushed(zeros);
  let crc = crc32(head);
  for (let i = 0; i < mib; i++) crc = crc32(zeros, crc);
  crc = crc32(tail, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((head.length + mib * MiB + tail.length) % 2 ** 32, 4);
  const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  const finalBlock = Buffer.from([3, 0]); // an empty final block with fixed codes
  return Buffer.concat([gzipHeader, flushed(head), ...Array<Buffer>(mib).fill(zeroBlock), flushed(tail), finalBlock, trailer]);
}

export interface FormPart {
  name: string;
  value: string | Buffer;
  /** Makes the part a file upload. */
  fileName?: string;
}

/** A multipart/form-data body and its Content-Type; file parts carry `fileType` (default application/octet-stream). */
export function multipart(parts: FormPart[], opts: { fileType?: string } = {}): { body: Buffer; contentType: string } {
  const boundary = `----stowage${Math.random().toString(16).slice(2)}`;
  const fileType = opts.fileType ?? 'application/octet-stream';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.fileName !== undefined ? `; filename="${p.fileName}"` : ''}`;
    const type = p.fileName !== undefined ? `Content-Type: ${fileType}\r\n` : '';
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      Buffer.from(p.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
