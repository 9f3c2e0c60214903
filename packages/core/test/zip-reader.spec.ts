import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bufferZipSource, ZipError, ZipReader, type ZipSource } from '../src/archives/zip-reader';

const run = promisify(execFile);

/** A file-backed source that counts the bytes it hands out. */
async function fileSource(path: string): Promise<ZipSource & { bytesRead: number }> {
  const { size } = await stat(path);
  const src = {
    size,
    bytesRead: 0,
    read: async (r: { start: number; end: number }) => {
      src.bytesRead += r.end - r.start + 1;
      return createReadStream(path, { start: r.start, end: r.end });
    },
  };
  return src;
}

describe('ZipReader', () => {
  let dir: string;
  const metadata = Buffer.from('Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n' + 'long description\n'.repeat(500));
  const big = randomBytes(8 << 20);

  async function zip(name: string, args: string[], cwd = join(dir, 'tree')): Promise<string> {
    const out = join(dir, name);
    await run('zip', ['-q', '-X', ...args, out, '-r', '.'], { cwd });
    return out;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip-reader-'));
    await mkdir(join(dir, 'tree', 'demo-1.0.dist-info'), { recursive: true });
    await writeFile(join(dir, 'tree', 'demo-1.0.dist-info', 'METADATA'), metadata);
    await writeFile(join(dir, 'tree', 'big.bin'), big);
    await writeFile(join(dir, 'tree', 'empty.txt'), '');
    await mkdir(join(dir, 'bomb'));
    await writeFile(join(dir, 'bomb', 'METADATA'), Buffer.alloc(64 << 20));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['deflated', ['-6']],
    ['stored', ['-0']],
    ['zip64', ['-fz']],
  ])('lists and extracts entries of a %s archive, reading only what it needs', async (kind, args) => {
    const path = await zip(`${kind}.zip`, args);
    const src = await fileSource(path);
    const reader = await ZipReader.open(src);
    expect(reader.entries.map((e) => e.name).sort()).toEqual(['big.bin', 'demo-1.0.dist-info/', 'demo-1.0.dist-info/METADATA', 'empty.txt']);
    const entry = reader.entry('demo-1.0.dist-info/METADATA')!;
    expect(entry.method).toBe(kind === 'stored' ? 0 : 8);
    expect(await reader.readEntry(entry, { maxSize: 1 << 20 })).toEqual(metadata);
    expect(await reader.readEntry(reader.entry('empty.txt')!, { maxSize: 10 })).toEqual(Buffer.alloc(0));
    // The 8 MiB member was never read.
    expect(src.bytesRead).toBeLessThan(200_000);
    expect((await reader.readEntry(reader.entry('big.bin')!, { maxSize: 16 << 20 })).equals(big)).toBe(true);
  });

  it('finds the directory behind an archive comment', async () => {
    const path = await zip('comment.zip', []);
    // Append a comment (which itself contains an end-record signature) by hand.
    const buf = await readFile(path);
    const comment = Buffer.from('a comment with PK\x05\x06 inside it');
    const withComment = Buffer.concat([buf.subarray(0, buf.length - 2), Buffer.from([comment.length, 0]), comment]);
    const reader = await ZipReader.open(bufferZipSource(withComment));
    expect(await reader.readEntry(reader.entry('demo-1.0.dist-info/METADATA')!, { maxSize: 1 << 20 })).toEqual(metadata);
  });

  it('refuses an entry whose declared size is over the cap without inflating it', async () => {
    const path = await zip('bomb.zip', ['-9'], join(dir, 'bomb'));
    expect((await stat(path)).size).toBeLessThan(200_000);
    const src = await fileSource(path);
    const reader = await ZipReader.open(src);
    const before = src.bytesRead;
    await expect(reader.readEntry(reader.entry('METADATA')!, { maxSize: 1 << 20 })).rejects.toThrow('METADATA is larger than 1048576 bytes uncompressed');
    expect(src.bytesRead).toBe(before);
  });

  it('stops inflating at the cap when the directory lies about the size', async () => {
    const buf = Buffer.from(await readFile(await zip('bomb2.zip', ['-9'], join(dir, 'bomb'))));
    // Claim 1000 bytes in the central directory (offset 24 of its record).
    const cd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(1000, cd + 24);
    const reader = await ZipReader.open(bufferZipSource(buf));
    const entry = reader.entry('METADATA')!;
    expect(entry.uncompressedSize).toBe(1000);
    const stream = await reader.openEntry(entry, { maxSize: 1 << 20 });
    let seen = 0;
    await expect(
      (async () => {
        for await (const c of stream) seen += (c as Buffer).length;
      })(),
    ).rejects.toThrow(ZipError);
    expect(seen).toBeLessThanOrEqual(1 << 20);
    // With a cap above the lie, the size check catches it.
    await expect(reader.readEntry(entry, { maxSize: 100 << 20 })).rejects.toThrow(/size does not match/);
  });

  it('detects corrupt data and CRC mismatches', async () => {
    const buf = Buffer.from(await readFile(await zip('crc.zip', ['-0'])));
    const reader = await ZipReader.open(bufferZipSource(buf));
    const entry = reader.entry('demo-1.0.dist-info/METADATA')!;
    const local = buf.indexOf(Buffer.from('Metadata-Version'));
    buf[local + 1] ^= 0xff;
    await expect(reader.readEntry(entry, { maxSize: 1 << 20 })).rejects.toThrow('demo-1.0.dist-info/METADATA: CRC-32 mismatch');

    const deflated = Buffer.from(await readFile(await zip('corrupt.zip', ['-9'])));
    const r2 = await ZipReader.open(bufferZipSource(deflated));
    const e2 = r2.entry('big.bin')!;
    deflated.fill(0xff, e2.localHeaderOffset + 60, e2.localHeaderOffset + 400);
    await expect(r2.readEntry(e2, { maxSize: 16 << 20 })).rejects.toThrow(ZipError);
  });

  it.each([
    ['random bytes', () => randomBytes(5000), /no end of central directory record/],
    ['a tiny file', () => Buffer.from('PK'), /too short/],
    ['an empty file', () => Buffer.alloc(0), /too short/],
  ])('refuses %s as not a zip', async (_what, make, message) => {
    await expect(ZipReader.open(bufferZipSource(make()))).rejects.toThrow(message);
    await expect(ZipReader.open(bufferZipSource(make()))).rejects.toBeInstanceOf(ZipError);
  });

  it('refuses truncated archives and directories pointing outside the file', async () => {
    const buf = await readFile(await zip('trunc.zip', ['-6']));
    // Cut the front: the end record survives but points before the start.
    await expect(ZipReader.open(bufferZipSource(buf.subarray(1000)))).rejects.toThrow(ZipError);
    const edited = Buffer.from(buf);
    const eocd = edited.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    edited.writeUInt32LE(edited.length + 10, eocd + 16);
    await expect(ZipReader.open(bufferZipSource(edited))).rejects.toThrow('zip structure points outside the file');
  });

  it('enforces entry-count and directory-size limits', async () => {
    const src = bufferZipSource(await readFile(await zip('limits.zip', ['-6'])));
    await expect(ZipReader.open(src, { maxEntries: 2 })).rejects.toThrow('zip has more than 2 entries');
    await expect(ZipReader.open(src, { maxDirectorySize: 50 })).rejects.toThrow('zip central directory is larger than 50 bytes');
  });
});
