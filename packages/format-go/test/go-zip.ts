import { createHash } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';

// Builds zip files byte by byte, so tests can make the broken ones (symlinks, lying sizes,
// paths outside the module) that no zip tool would write.

export interface ZipInput {
  name: string;
  data?: Buffer | string;
  /** Unix mode (type and permission bits); a symlink is 0o120777. */
  mode?: number;
  method?: 0 | 8;
  /** Overrides the uncompressed size written in the headers. */
  declaredSize?: number;
}

export function buildZip(inputs: ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const input of inputs) {
    const data = Buffer.from(input.data ?? '');
    const method = input.method ?? (data.length ? 8 : 0);
    const packed = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(input.name, 'utf8');
    const crc = crc32(data);
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

/** A module zip in the layout the go command writes: every file under `module@version/`. */
export function moduleZip(module: string, version: string, files: Record<string, string>): Buffer {
  return buildZip(Object.entries(files).map(([name, data]) => ({ name: `${module}@${version}/${name}`, data })));
}

/** golang.org/x/mod/sumdb/dirhash Hash1 over the files of a module zip: what go.sum records. */
export function h1(module: string, version: string, files: Record<string, string>): string {
  const sha = (s: string | Buffer) => createHash('sha256').update(s).digest();
  const lines = Object.keys(files)
    .map((name) => `${module}@${version}/${name}`)
    .sort()
    .map((full) => `${sha(files[full.slice(module.length + version.length + 2)]).toString('hex')}  ${full}\n`);
  return `h1:${sha(lines.join('')).toString('base64')}`;
}

/** The `/go.mod h1:` line's hash: Hash1 over the single file `go.mod`. */
export function h1GoMod(goMod: string): string {
  const sha = (s: string) => createHash('sha256').update(s).digest();
  return `h1:${sha(`${sha(goMod).toString('hex')}  go.mod\n`).toString('base64')}`;
}
