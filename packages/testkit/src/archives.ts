import { crc32, deflateRawSync } from 'node:zlib';

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
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(inputs.length, 8);
  end.writeUInt16LE(inputs.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
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
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
