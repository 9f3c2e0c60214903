import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { aliasZipEntry, buildZip, longestHold, workCpuMs, type ZipInput } from '@stowage/testkit';

import { bufferZipSource, ZipError, ZipReader, type ZipSource } from '../src/archives/zip-reader';

const run = promisify(execFile);

const CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
const END = Buffer.from([0x50, 0x4b, 0x05, 0x06]);

/** A file-backed source that counts the reads and bytes it hands out. */
async function fileSource(path: string): Promise<ZipSource & { reads: number; bytesRead: number }> {
  const { size } = await stat(path);
  const src = {
    size,
    reads: 0,
    bytesRead: 0,
    read: async (r: { start: number; end: number }) => {
      src.reads++;
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
    expect(reader.entries.map((e) => e.name).sort()).toEqual([
      'big.bin',
      'demo-1.0.dist-info/',
      'demo-1.0.dist-info/METADATA',
      'empty.txt',
    ]);
    const entry = reader.entry('demo-1.0.dist-info/METADATA')!;
    expect(entry.method).toBe(kind === 'stored' ? 0 : 8);
    expect(await reader.readEntry(entry, { maxSize: 1 << 20 })).toEqual(metadata);
    expect(await reader.readEntry(reader.entry('empty.txt')!, { maxSize: 10 })).toEqual(Buffer.alloc(0));
    // The 8 MiB member was never read.
    expect(src.bytesRead).toBeLessThan(200_000);
    expect((await reader.readEntry(reader.entry('big.bin')!, { maxSize: 16 << 20 })).equals(big)).toBe(true);
    // And all of them checked in one read, keeping only what is asked for.
    const reads = src.reads;
    const kept = await reader.verifyEntries(reader.entries, { keep: (e) => e.name.endsWith('METADATA'), maxKeptSize: 1 << 20 });
    expect(src.reads).toBe(reads + 1);
    expect([...kept]).toEqual([[entry, metadata]]);
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
    await expect(reader.readEntry(reader.entry('METADATA')!, { maxSize: 1 << 20 })).rejects.toThrow(
      'METADATA is larger than 1048576 bytes uncompressed',
    );
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

  it('reads what Info-ZIP writes to a pipe (zip64 local header, data descriptor)', async () => {
    const piped = await new Promise<Buffer>((resolve, reject) => {
      const child = execFile('zip', ['-q', '-', '-'], { encoding: 'buffer' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end('module example.com/piped\n');
    });
    const reader = await ZipReader.open(bufferZipSource(piped));
    const [entry] = reader.entries;
    expect(entry.flags & 0x8).toBe(0x8);
    expect((await reader.readEntry(entry, { maxSize: 100 })).toString()).toBe('module example.com/piped\n');
    expect((await reader.verifyEntries([entry], { keep: () => true, maxKeptSize: 100 })).get(entry)!.toString()).toBe(
      'module example.com/piped\n',
    );
  });

  it('reports Unix modes, so symlinks can be told from files and directories', async () => {
    const tree = join(dir, 'links');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'file.txt'), 'x');
    await symlink('/etc/passwd', join(tree, 'link'));
    const reader = await ZipReader.open(bufferZipSource(await readFile(await zip('links.zip', ['-y'], tree))));
    const type = (name: string) => reader.entry(name)!.unixMode! & 0o170000;
    expect([type('file.txt'), type('sub/'), type('link')]).toEqual([0o100000, 0o040000, 0o120000]);
  });

  it('reads every name as UTF-8 when asked, refusing names that are not', async () => {
    const buf = Buffer.from(await readFile(await zip('names.zip', ['-0'])));
    const src = bufferZipSource(buf);
    // Info-ZIP flags no ASCII name as UTF-8; either way the ASCII names read the same.
    expect((await ZipReader.open(src, { utf8Names: true })).entries.map((e) => e.name).sort()).toEqual(
      (await ZipReader.open(src)).entries.map((e) => e.name).sort(),
    );
    const cd = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf[cd + 46] = 0xff;
    expect((await ZipReader.open(src)).entries.some((e) => e.name.startsWith('\u00ff'))).toBe(true);
    await expect(ZipReader.open(src, { utf8Names: true })).rejects.toThrow('zip entry name is not valid UTF-8');
  });

  it('takes a name that spells U+FFFD in valid UTF-8 when reading names as UTF-8', async () => {
    const r = await ZipReader.open(bufferZipSource(buildZip({ 'a\uFFFDb.txt': 'x' })), { utf8Names: true });
    expect(r.entries.map((e) => e.name)).toEqual(['a\uFFFDb.txt']);
  });

  it('refuses a directory too small for the entries its end record counts, before reading it', async () => {
    const zip = Buffer.from(buildZip({ 'a.txt': 'x' }));
    const end = zip.lastIndexOf(END);
    zip.writeUInt16LE(0xfffe, end + 8);
    zip.writeUInt16LE(0xfffe, end + 10);
    await expect(ZipReader.open(bufferZipSource(zip), { maxEntries: Infinity })).rejects.toThrow('corrupt zip central directory');
  });

  it('reads a directory listed out of file order, and still finds overlaps in it', async () => {
    const zip = buildZip({ 'a.txt': 'a'.repeat(100), 'b.txt': 'b'.repeat(100), 'c.txt': 'c'.repeat(100) });
    const end = zip.lastIndexOf(END);
    const dirStart = zip.readUInt32LE(end + 16);
    const records: Buffer[] = [];
    for (let p = dirStart; p < end;) {
      const length = 46 + zip.readUInt16LE(p + 28) + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
      records.push(zip.subarray(p, p + length));
      p += length;
    }
    const reversed = Buffer.concat([zip.subarray(0, dirStart), ...records.reverse(), zip.subarray(end)]);
    const r = await ZipReader.open(bufferZipSource(reversed));
    expect(r.entries.map((e) => e.name)).toEqual(['c.txt', 'b.txt', 'a.txt']);
    expect((await r.readEntry(r.entry('b.txt')!, { maxSize: 100 })).toString()).toBe('b'.repeat(100));
    const kept = await r.verifyEntries(r.entries, { keep: () => true, maxKeptSize: 100 });
    expect(r.entries.map((e) => kept.get(e)!.toString())).toEqual(['c', 'b', 'a'].map((c) => c.repeat(100)));
    // a.txt (listed last) claims 40 bytes of b.txt's header.
    const grown = Buffer.from(reversed);
    const aRecord = grown.lastIndexOf(Buffer.from('a.txt')) - 46;
    grown.writeUInt32LE(grown.readUInt32LE(aRecord + 20) + 40, aRecord + 20);
    const overlap = { message: 'b.txt: overlaps another entry', entry: 'b.txt' };
    await expect(ZipReader.open(bufferZipSource(grown))).rejects.toMatchObject(overlap);
  });

  it('reads, checks and verifies 100,000 entries in slices of the event loop', async () => {
    const zip = buildZip([
      { name: 'big/', mode: 0o040755 },
      ...Array.from({ length: 99_999 }, (_, i) => ({ name: `big/d${i % 100}/f${i}.txt`, data: i % 10 ? '' : `file ${i}` })),
    ]);
    // A buffer source never waits for I/O: without slices nothing else would run until the end.
    const { result, longestMs, ticks } = await longestHold(async () => {
      const r = await ZipReader.open(bufferZipSource(zip));
      await r.checkEntries();
      const kept = await r.verifyEntries(r.entries, { keep: (e) => e.name === 'big/d10/f10.txt', maxKeptSize: 100 });
      return [r.entries.length, [...kept.values()].map(String)];
    });
    expect(result).toEqual([100_000, ['file 10']]);
    // Before, the three held the loop for about two seconds in all, the directory alone for 0.7 s.
    expect(ticks).toBeGreaterThan(10);
    expect(longestMs).toBeLessThan(150);
  });

  it('refuses multi-disk archives', async () => {
    const buf = Buffer.from(await readFile(await zip('disks.zip', ['-6'])));
    buf.writeUInt16LE(1, buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 4);
    await expect(ZipReader.open(bufferZipSource(buf))).rejects.toThrow('multi-disk zip files are not supported');
  });

  it('enforces entry-count and directory-size limits', async () => {
    const src = bufferZipSource(await readFile(await zip('limits.zip', ['-6'])));
    await expect(ZipReader.open(src, { maxEntries: 2 })).rejects.toThrow('zip has more than 2 entries');
    await expect(ZipReader.open(src, { maxDirectorySize: 50 })).rejects.toThrow('zip central directory is larger than 50 bytes');
  });

  describe('a central directory that holds other than its end record says', () => {
    const hiding = () =>
      buildZip([
        { name: 'a.txt', data: 'x' },
        { name: '../evil', data: 'evil' },
        { name: 'lnk', data: '/etc/passwd', mode: 0o120777 },
      ]);
    /** The zip with its end record's entry count (both fields) and directory size replaced. */
    function declaring(zip: Buffer, count: number, dirSize?: number): Buffer {
      const edited = Buffer.from(zip);
      const end = edited.lastIndexOf(END);
      edited.writeUInt16LE(count, end + 8);
      edited.writeUInt16LE(count, end + 10);
      if (dirSize !== undefined) edited.writeUInt32LE(dirSize, end + 12);
      return edited;
    }
    /** The zip with `bytes` put between its central directory and its end record. */
    function inserting(zip: Buffer, bytes: Buffer): Buffer {
      const end = zip.lastIndexOf(END);
      return Buffer.concat([zip.subarray(0, end), bytes, zip.subarray(end)]);
    }
    const refusal = (zip: Buffer, options = {}) => ZipReader.open(bufferZipSource(zip), options).catch((e: unknown) => e);

    it('refuses records past the count its end record declares (unzip tools list and extract them)', async () => {
      const error = await refusal(declaring(hiding(), 1));
      expect(error).toBeInstanceOf(ZipError);
      expect(error).toMatchObject({ message: 'zip central directory holds 3 entries but its end record declares 1' });
    });

    it('refuses a zip64 end record whose count differs from the records', async () => {
      const buf = Buffer.from(await readFile(await zip('count64.zip', ['-fz'])));
      const z64 = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
      expect((await ZipReader.open(bufferZipSource(buf))).entries).toHaveLength(4);
      buf.writeBigUInt64LE(3n, z64 + 24);
      buf.writeBigUInt64LE(3n, z64 + 32);
      await expect(ZipReader.open(bufferZipSource(buf))).rejects.toThrow(
        'zip central directory holds 4 entries but its end record declares 3',
      );
    });

    it('refuses bytes in the directory that are not a whole record', async () => {
      const zip = hiding();
      const dirSize = zip.readUInt32LE(zip.lastIndexOf(END) + 12);
      const partial = Buffer.concat([CENTRAL, Buffer.alloc(16)]);
      await expect(ZipReader.open(bufferZipSource(declaring(inserting(zip, partial), 3, dirSize + 20)))).rejects.toThrow(
        'corrupt zip central directory (20 bytes at its end are not a central directory record)',
      );
    });

    it('refuses a last record that runs past the directory size', async () => {
      const zip = Buffer.from(hiding());
      zip.writeUInt16LE(10, zip.lastIndexOf(CENTRAL) + 32); // lnk's comment length, into the end record
      await expect(ZipReader.open(bufferZipSource(zip))).rejects.toThrow(
        'corrupt zip central directory (its last record runs past the size its end record declares)',
      );
    });

    it('refuses a directory that does not end where the end record starts', async () => {
      // Records left out of the declared size, before the end record.
      const zip = hiding();
      const firstRecord = 46 + 'a.txt'.length;
      expect(await refusal(declaring(zip, 1, firstRecord))).toMatchObject({
        message: 'zip central directory does not end where its end record starts',
      });
      // Bytes between the directory and the end record: other readers look for the directory by its size back from the end record.
      expect(await refusal(inserting(zip, Buffer.alloc(64)))).toMatchObject({
        message: 'zip central directory does not end where its end record starts',
      });
    });

    it('counts the real records against maxEntries when the 16-bit count wrapped past 65,535', async () => {
      const many = buildZip(
        Array.from({ length: 70_000 }, (_, i) => ({ name: `f${i}` })),
        { wrapCount: true },
      );
      expect(many.readUInt16LE(many.lastIndexOf(END) + 10)).toBe(70_000 - 65_536);
      const r = await ZipReader.open(bufferZipSource(many));
      expect([r.entries.length, r.entries[69_999].name]).toEqual([70_000, 'f69999']);
      expect(await refusal(many, { maxEntries: 66_000 })).toMatchObject({ message: 'zip has more than 66000 entries' });
      // A count that wraps to anything else is refused like any other.
      expect(await refusal(declaring(many, 70_000 - 65_536 - 1))).toMatchObject({
        message: 'zip central directory holds 70000 entries but its end record declares 4463',
      });
    });
  });

  describe('overlapping entries', () => {
    const pdb = Buffer.alloc(32 << 20);

    it('refuses, on opening, a directory whose entries share one stream, before any inflation', async () => {
      const one = buildZip({ 'lib/a.pdb': pdb });
      const bomb = aliasZipEntry(
        one,
        'lib/a.pdb',
        Array.from({ length: 400 }, (_, i) => `lib/copy${i}.pdb`),
      );
      expect(bomb.length).toBeLessThan(60_000);
      const before = workCpuMs();
      const error = await ZipReader.open(bufferZipSource(bomb)).catch((e: unknown) => e);
      const used = workCpuMs() - before;
      expect(error).toBeInstanceOf(ZipError);
      expect(error).toMatchObject({ message: 'lib/copy0.pdb: overlaps another entry', entry: 'lib/copy0.pdb' });
      expect(used / 1000).toBeLessThan(0.5);
    });

    it('refuses an entry whose data runs into the next local header or the central directory', async () => {
      const zip = buildZip({ 'a.txt': 'x'.repeat(1000), 'b.txt': 'y'.repeat(1000) });
      const grown = Buffer.from(zip);
      const cd = grown.indexOf(CENTRAL);
      grown.writeUInt32LE(grown.readUInt32LE(cd + 20) + 40, cd + 20); // a.txt's compressed size, 40 bytes into b.txt's header
      await expect(ZipReader.open(bufferZipSource(grown))).rejects.toMatchObject({
        message: 'b.txt: overlaps another entry',
        entry: 'b.txt',
      });
      const last = Buffer.from(zip);
      const cdB = last.lastIndexOf(CENTRAL);
      last.writeUInt32LE(last.readUInt32LE(cdB + 20) + 10, cdB + 20);
      await expect(ZipReader.open(bufferZipSource(last))).rejects.toThrow('b.txt: overlaps the zip central directory');
    });

    it('checks each local header as it reads it: a longer extra field may not push data into the next entry', async () => {
      const zip = Buffer.from(buildZip({ 'a.txt': 'x'.repeat(1000), 'b.txt': 'y'.repeat(1000) }));
      zip.writeUInt16LE(30, 28); // a.txt's local extra field: 30 bytes the central directory does not know of
      const reader = await ZipReader.open(bufferZipSource(zip));
      const a = reader.entry('a.txt')!;
      await expect(reader.readEntry(a, { maxSize: 10_000 })).rejects.toMatchObject({
        message: 'a.txt: overlaps another entry',
        entry: 'a.txt',
      });
      await expect(reader.verifyEntries(reader.entries)).rejects.toThrow('a.txt: overlaps another entry');
      await expect(reader.readEntry({ ...a, localHeaderOffset: 7 }, { maxSize: 10_000 })).rejects.toThrow(
        'a.txt: no entry of this archive starts there',
      );
    });

    it('still reads archives with gaps between entries and data descriptors', async () => {
      const zip = buildZip({ 'a.txt': 'x'.repeat(1000), 'b.txt': 'y'.repeat(1000) });
      const cd = zip.indexOf(CENTRAL);
      // 16 bytes (a data descriptor's worth) between a.txt's data and b.txt's header.
      const secondLocal = zip.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4);
      const gapped = Buffer.concat([zip.subarray(0, secondLocal), Buffer.alloc(16), zip.subarray(secondLocal)]);
      const cdAt = cd + 16;
      const secondCentral = gapped.lastIndexOf(CENTRAL);
      gapped.writeUInt32LE(secondLocal + 16, secondCentral + 42);
      gapped.writeUInt32LE(cdAt, gapped.lastIndexOf(END) + 16);
      const reader = await ZipReader.open(bufferZipSource(gapped));
      expect((await reader.readEntry(reader.entry('b.txt')!, { maxSize: 1000 })).toString()).toBe('y'.repeat(1000));
      expect((await reader.verifyEntries(reader.entries)).size).toBe(0);
    });
  });

  describe('checkEntries', () => {
    const open = async (entries: ZipInput[]) => ZipReader.open(bufferZipSource(buildZip([{ name: 'lib/ok.dll', data: 'ok' }, ...entries])));

    it('tells files, directories, symlinks and special files apart by their Unix mode', async () => {
      const r = await open([
        { name: 'lib/' },
        { name: 'lib/link', data: '/etc/passwd', mode: 0o120777 },
        { name: 'lib/fifo', mode: 0o010644 },
        { name: 'x.dist-info/RECORD', data: '', mode: 0o664 }, // permission bits only, as the wheel package writes RECORD
      ]);
      expect(r.entries.map((e) => [e.name, e.kind])).toEqual([
        ['lib/ok.dll', 'file'],
        ['lib/', 'directory'],
        ['lib/link', 'symlink'],
        ['lib/fifo', 'other'],
        ['x.dist-info/RECORD', 'file'],
      ]);
      const windows = Buffer.from(buildZip({ 'a.txt': 'x' }));
      windows[windows.indexOf(CENTRAL) + 5] = 0; // made on MS-DOS: the external attributes hold no Unix mode
      expect((await ZipReader.open(bufferZipSource(windows))).entries[0]).toMatchObject({ kind: 'file', unixMode: undefined });
    });

    it.each<[string, ZipInput, string]>([
      ['a ".." path', { name: 'lib/../../x' }, 'the archive entry "lib/../../x" points outside the package directory (a ".." segment)'],
      ['an absolute path', { name: '/x' }, 'the archive entry "/x" points outside the package directory (an absolute path)'],
      ['a drive path', { name: 'C:/x' }, 'the archive entry "C:/x" points outside the package directory (a drive path)'],
      ['a backslash drive path', { name: 'C:\\x' }, 'the archive entry "C:\\\\x" has a backslash in its name'],
      ['a backslash path', { name: 'lib\\..\\..\\x' }, 'the archive entry "lib\\\\..\\\\..\\\\x" has a backslash in its name'],
      ['a NUL in a name', { name: 'lib/a\0.dll' }, 'the archive entry "lib/a\\u0000.dll" has a NUL character in its name'],
      ['a symlink', { name: 'lib/link', data: '../../../etc/passwd', mode: 0o120777 }, 'the archive entry "lib/link" is a symbolic link'],
      ['a special file', { name: 'lib/fifo', mode: 0o010644 }, 'the archive entry "lib/fifo" is a device, FIFO or other special file'],
      ['a name held twice', { name: 'lib/ok.dll', data: 'evil' }, 'the archive holds "lib/ok.dll" more than once'],
    ])('refuses %s, naming the entry', async (_, entry, message) => {
      const r = await open([entry]);
      const error = await r.checkEntries().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ZipError);
      expect(error).toMatchObject({ message, entry: entry.name });
    });

    it('takes ordinary archives', async () => {
      const r = await open([
        { name: 'lib/' },
        { name: 'lib/net8.0/' },
        { name: 'lib/net8.0/a.dll', data: 'x' },
        { name: 'a b/ü.txt', data: 'y' },
      ]);
      await expect(r.checkEntries()).resolves.toBeUndefined();
    });
  });

  describe('verifyEntries', () => {
    let buf: Buffer;

    beforeAll(async () => {
      await mkdir(join(dir, 'verify', 'a'), { recursive: true });
      await writeFile(join(dir, 'verify', 'a', 'x.txt'), 'x'.repeat(10_000));
      await writeFile(join(dir, 'verify', 'b.raw'), 'bee');
      buf = await readFile(await zip('verify.zip', ['-n', '.raw'], join(dir, 'verify')));
    });

    /** The archive with the uncompressed size of `name` in its central directory replaced. */
    function declaring(name: string, size: number): Promise<ZipReader> {
      const edited = Buffer.from(buf);
      edited.writeUInt32LE(size, edited.lastIndexOf(Buffer.from(name)) - 46 + 24);
      return ZipReader.open(bufferZipSource(edited));
    }

    it('lists entries and returns the ones asked for, verified', async () => {
      const r = await ZipReader.open(bufferZipSource(buf));
      expect(r.entries.map((e) => [e.name, e.isDirectory, e.uncompressedSize, e.method]).sort()).toEqual([
        ['a/', true, 0, 0],
        ['a/x.txt', false, 10_000, 8],
        ['b.raw', false, 3, 0],
      ]);
      const kept = await r.verifyEntries(r.entries, { keep: (e) => !e.isDirectory, maxKeptSize: 10_000 });
      expect([...kept].map(([e, b]) => [e.name, b.toString()]).sort()).toEqual([
        ['a/x.txt', 'x'.repeat(10_000)],
        ['b.raw', 'bee'],
      ]);
      expect((await r.verifyEntries([])).size).toBe(0);
    });

    it('refuses to keep an entry over the cap before reading its data', async () => {
      const r = await ZipReader.open(bufferZipSource(buf));
      const error = await r.verifyEntries(r.entries, { keep: () => true, maxKeptSize: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ZipError);
      expect(error).toMatchObject({ message: 'a/x.txt is larger than 100 bytes uncompressed', entry: 'a/x.txt' });
    });

    it('refuses entries that overlap (one stored range claimed twice)', async () => {
      const r = await ZipReader.open(bufferZipSource(buf));
      const b = r.entry('b.raw')!;
      await expect(r.verifyEntries([b, { ...b, name: 'b2' }])).rejects.toThrow('b2: overlaps another entry');
    });

    it('refuses data that does not match its CRC or declared size, naming the entry', async () => {
      const corrupt = Buffer.from(buf);
      corrupt[corrupt.indexOf('bee')] ^= 1;
      const r = await ZipReader.open(bufferZipSource(corrupt));
      await expect(r.verifyEntries(r.entries)).rejects.toMatchObject({ message: 'b.raw: CRC-32 mismatch', entry: 'b.raw' });
      const short = await declaring('a/x.txt', 3);
      await expect(short.verifyEntries(short.entries)).rejects.toThrow('a/x.txt: uncompressed data is larger than its declared size');
      const long = await declaring('a/x.txt', 20_000);
      await expect(long.verifyEntries(long.entries)).rejects.toThrow('a/x.txt: size does not match the zip directory');
    });

    it('stops inflating at the declared size when the directory lies about it', async () => {
      const bomb = Buffer.from(await readFile(await zip('bomb3.zip', ['-9'], join(dir, 'bomb'))));
      bomb.writeUInt32LE(1000, bomb.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 24);
      const r = await ZipReader.open(bufferZipSource(bomb));
      // The size check at the end would say "does not match": this fails while inflating.
      await expect(r.verifyEntries(r.entries)).rejects.toThrow('METADATA: uncompressed data is larger than its declared size');
    });
  });
});
