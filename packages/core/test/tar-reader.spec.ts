import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { findTarEntry, TarError } from '../src/archives/tar-reader';

const run = promisify(execFile);

function header(path: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(path, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** A ustar archive (not gzipped) of the given files, with or without the end blocks. */
function tar(files: Record<string, string | Buffer>, end = true): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    parts.push(header(path, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const manifest = (path: string) => {
  const parts = path.split('/');
  return parts.length === 2 && parts[1] === 'package.json';
};

describe('findTarEntry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-tar-'));
    const deep = join(dir, 'package', 'a'.repeat(120), 'b'.repeat(80));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'file.js'), 'x'.repeat(3000));
    await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name: 'from-tar', version: '1.2.3' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds an entry after long names in GNU and pax archives made by tar', async () => {
    for (const format of ['gnu', 'pax']) {
      const file = join(dir, `${format}.tgz`);
      // The long path first, so the reader has to step over its extension headers and data.
      await run('tar', ['-czf', file, `--format=${format}`, '-C', dir, `package/${'a'.repeat(120)}`, 'package/package.json']);
      const entry = await findTarEntry(await readFile(file), { match: manifest, maxEntrySize: 1 << 20 });
      expect(entry?.path).toBe('package/package.json');
      expect(JSON.parse(entry!.data.toString())).toEqual({ name: 'from-tar', version: '1.2.3' });
      // The same from a stream of small chunks.
      const bytes = await readFile(file);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
      expect((await findTarEntry(Readable.from(chunks), { match: manifest, maxEntrySize: 1 << 20 }))?.data.length).toBe(entry!.data.length);
    }
  });

  it('returns the first match only, skips deeper paths, and null when nothing matches', async () => {
    const nested = gzipSync(tar({ 'package/lib/package.json': '{"name":"inner"}', 'package/package.json': '{"name":"outer"}', 'other/package.json': 'x' }));
    expect((await findTarEntry(nested, { match: manifest, maxEntrySize: 100 }))?.data.toString()).toBe('{"name":"outer"}');
    expect(await findTarEntry(gzipSync(tar({ 'package/index.js': 'x' })), { match: manifest, maxEntrySize: 100 })).toBeNull();
    // No end-of-archive blocks (some packers omit them): still a clean "not found".
    expect(await findTarEntry(gzipSync(tar({ 'package/index.js': 'x' }, false)), { match: manifest, maxEntrySize: 100 })).toBeNull();
    // Not gzipped, when told so.
    expect((await findTarEntry(tar({ './package/package.json': '{}' }), { match: manifest, maxEntrySize: 100, gzip: false }))?.path).toBe('package/package.json');
  });

  it('rejects broken archives with a TarError', async () => {
    const opts = { match: manifest, maxEntrySize: 100 };
    await expect(findTarEntry(Buffer.from('not gzip'), opts)).rejects.toThrow(new TarError('not a gzipped tar archive'));
    await expect(findTarEntry(gzipSync(Buffer.from('x'.repeat(2000))), opts)).rejects.toThrow('bad header checksum');
    const whole = gzipSync(tar({ 'package/index.js': 'x'.repeat(5000), 'package/package.json': '{}' }));
    await expect(findTarEntry(whole.subarray(0, 40), opts)).rejects.toThrow(TarError);
    // Gzip intact, tar cut inside an entry.
    await expect(findTarEntry(gzipSync(tar({ 'package/index.js': 'x'.repeat(5000) }).subarray(0, 2048)), opts)).rejects.toThrow('the archive is truncated');
  });

  it('caps the entry it returns and the bytes it scans (tar bombs)', async () => {
    const big = gzipSync(tar({ 'package/package.json': 'x'.repeat(5000) }));
    await expect(findTarEntry(big, { match: manifest, maxEntrySize: 4096 })).rejects.toThrow('package/package.json is larger than 4096 bytes');
    // 64 MiB of zeros in front of the entry: a 64 KiB upload.
    const bomb = gzipSync(Buffer.concat([header('package/zeros', 64 << 20), Buffer.alloc(64 << 20), tar({ 'package/package.json': '{}' })]));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(findTarEntry(bomb, { match: manifest, maxEntrySize: 100, maxScanBytes: 8 << 20 })).rejects.toThrow(/expands beyond 8388608 bytes/);
    expect((await findTarEntry(bomb, { match: manifest, maxEntrySize: 100 }))?.data.toString()).toBe('{}');
  });

  it('passes on a failure of the source stream instead of calling the archive broken', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('disk on fire')); } });
    await expect(findTarEntry(failing, { match: manifest, maxEntrySize: 100 })).rejects.toThrow('disk on fire');
  });
});
