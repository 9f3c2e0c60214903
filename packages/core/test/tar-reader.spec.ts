import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { buildTar, tarHeader, workCpuMs, zeroTarGz } from '@stowage/testkit';

import { scanTar, TarError, type TarScanOptions, tarScanStage } from '../src/archives/tar-reader';

const run = promisify(execFile);

/** A ustar archive (not gzipped) of the given files, with or without the end blocks. */
const tar = (files: Record<string, string | Buffer>, end = true) => buildTar(files, { gzip: false, end });
const header = tarHeader;

/** One entry of a hand-made archive: a file, or another type with its link target. */
interface Raw {
  path: string;
  type?: string;
  link?: string;
  data?: string;
  /** A pax header in front, whose `path` record overrides the name in the ustar header. */
  paxPath?: string;
}

const rawTar = (entries: Raw[]) =>
  buildTar(entries.map((e) => ({ name: e.path, type: e.type, link: e.link, data: e.data, paxPath: e.paxPath })));

const manifest = (path: string) => {
  const parts = path.split('/');
  return parts.length === 2 && parts[1] === 'package.json';
};

const manifestOnly = (opts: Partial<TarScanOptions> = {}): TarScanOptions => ({
  keep: manifest,
  maxKeptSize: 1 << 20,
  maxUnpackedSize: 1 << 30,
  ...opts,
});
const paths = (entries: { path: string }[]) => entries.map((e) => e.path);

describe('scanTar', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-tar-'));
    const deep = join(dir, 'package', 'a'.repeat(120), 'b'.repeat(80));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'file.js'), 'x'.repeat(3000));
    await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name: 'from-tar', version: '1.2.3' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads entries after long names in GNU and pax archives made by tar', async () => {
    for (const format of ['gnu', 'pax']) {
      const file = join(dir, `${format}.tgz`);
      // The long path first, so the reader has to step over its extension headers and data.
      await run('tar', ['-czf', file, `--format=${format}`, '-C', dir, `package/${'a'.repeat(120)}`, 'package/package.json']);
      const [entry, ...more] = await scanTar(await readFile(file), manifestOnly());
      expect(more).toEqual([]);
      expect(entry.path).toBe('package/package.json');
      expect(JSON.parse(entry.data.toString())).toEqual({ name: 'from-tar', version: '1.2.3' });
      // The same from a stream of small chunks.
      const bytes = await readFile(file);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
      expect((await scanTar(Readable.from(chunks), manifestOnly())).map((e) => e.data.length)).toEqual([entry.data.length]);
    }
  });

  it('returns every entry `keep` selects, in order, and none when nothing matches', async () => {
    const nested = gzipSync(
      tar({ 'package/lib/package.json': '{"name":"inner"}', 'package/package.json': '{"name":"outer"}', 'other/package.json': 'x' }),
    );
    expect((await scanTar(nested, manifestOnly())).map((e) => [e.path, e.data.toString()])).toEqual([
      ['package/package.json', '{"name":"outer"}'],
      ['other/package.json', 'x'],
    ]);
    expect(await scanTar(gzipSync(tar({ 'package/index.js': 'x' })), manifestOnly())).toEqual([]);
    // No end-of-archive blocks (some packers omit them): still read to a clean end.
    expect(await scanTar(gzipSync(tar({ 'package/index.js': 'x' }, false)), manifestOnly())).toEqual([]);
    // Not gzipped, when told so; `./` in front of names is dropped.
    expect(paths(await scanTar(tar({ './package/package.json': '{}' }), manifestOnly({ gzip: false })))).toEqual(['package/package.json']);
  });

  it('rejects broken archives with a TarError', async () => {
    const opts = manifestOnly();
    await expect(scanTar(Buffer.from('not gzip'), opts)).rejects.toThrow(new TarError('not a gzipped tar archive'));
    await expect(scanTar(gzipSync(Buffer.from('x'.repeat(2000))), opts)).rejects.toThrow('not a tar archive (bad header checksum)');
    const whole = gzipSync(tar({ 'package/index.js': 'x'.repeat(5000), 'package/package.json': '{}' }));
    await expect(scanTar(whole.subarray(0, 40), opts)).rejects.toThrow(TarError);
    await expect(scanTar(whole.subarray(0, whole.length - 10), opts)).rejects.toThrow(TarError);
    // Gzip intact, tar cut inside an entry.
    await expect(scanTar(gzipSync(tar({ 'package/index.js': 'x'.repeat(5000) }).subarray(0, 2048)), opts)).rejects.toThrow(
      'the archive is truncated',
    );
  });

  it('caps the entries it keeps and the bytes the whole archive expands to (tar bombs)', async () => {
    const big = gzipSync(tar({ 'package/package.json': 'x'.repeat(5000) }));
    await expect(scanTar(big, manifestOnly({ maxKeptSize: 4096 }))).rejects.toThrow('package/package.json is larger than 4096 bytes');
    // 64 MiB of zeros in front of the entry: a 64 KiB upload.
    const bomb = gzipSync(
      Buffer.concat([header('package/zeros', 64 << 20), Buffer.alloc(64 << 20), tar({ 'package/package.json': '{}' })]),
    );
    expect(bomb.length).toBeLessThan(100_000);
    await expect(scanTar(bomb, manifestOnly({ maxUnpackedSize: 8 << 20 }))).rejects.toThrow(
      new TarError('the archive expands beyond 8388608 bytes'),
    );
    // ... and behind it: the whole archive counts, not only what comes before the entry sought.
    const behind = gzipSync(
      Buffer.concat([tar({ 'package/package.json': '{}' }, false), header('package/zeros', 64 << 20), Buffer.alloc(64 << 20)]),
    );
    await expect(scanTar(behind, manifestOnly({ maxUnpackedSize: 8 << 20 }))).rejects.toThrow(/expands beyond 8388608 bytes/);
    expect((await scanTar(bomb, manifestOnly({ maxUnpackedSize: 65 << 20 })))[0].data.toString()).toBe('{}');
  });

  it('stops a multi-GiB bomb at the cap in well under a second of CPU', async () => {
    const bomb = zeroTarGz('package/zeros', 2048); // 2 GiB of zeros in a tar entry: about 2 MiB
    const before = workCpuMs();
    await expect(scanTar(bomb, manifestOnly({ maxUnpackedSize: 64 << 20 }))).rejects.toThrow(/expands beyond/);
    const used = workCpuMs() - before;
    expect(used / 1000).toBeLessThan(1);
  });

  it('passes on a failure of the source stream instead of calling the archive broken', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(scanTar(failing, manifestOnly())).rejects.toThrow('disk on fire');
  });

  describe('refuses entries a client could not unpack safely, naming them', () => {
    it.each<[string, Raw[], string]>([
      [
        'a ".." path',
        [{ path: 'package/../../x' }],
        'the archive entry "package/../../x" points outside the package directory (a ".." segment)',
      ],
      [
        'an absolute path',
        [{ path: '/etc/cron.d/x' }],
        'the archive entry "/etc/cron.d/x" points outside the package directory (an absolute path)',
      ],
      ['a drive path', [{ path: 'C:/x' }], 'the archive entry "C:/x" points outside the package directory (a drive path)'],
      ['a drive path with a backslash', [{ path: 'C:\\x' }], 'the archive entry "C:\\\\x" has a backslash in its name'],
      ['a backslash path', [{ path: 'package\\..\\x' }], 'the archive entry "package\\\\..\\\\x" has a backslash in its name'],
      [
        'an absolute root directory',
        [{ path: '/', type: '5' }],
        'the archive entry "/" points outside the package directory (an absolute path)',
      ],
      ['a file without a name', [{ path: '' }], 'the archive has an entry with an empty name ("")'],
      ['a symlink', [{ path: 'package/link', type: '2', link: '/etc/passwd' }], 'the archive entry "package/link" is a symbolic link'],
      [
        'a hard link',
        [{ path: 'package/a' }, { path: 'package/link', type: '1', link: 'package/a' }],
        'the archive entry "package/link" is a hard link',
      ],
      ['a FIFO', [{ path: 'package/fifo', type: '6' }], 'the archive entry "package/fifo" is a device, FIFO or other special file'],
      [
        'a character device',
        [{ path: 'package/tty', type: '3' }],
        'the archive entry "package/tty" is a device, FIFO or other special file',
      ],
      [
        'a file held twice',
        [{ path: 'package/package.json' }, { path: './package/package.json' }],
        'the archive holds "./package/package.json" more than once',
      ],
      [
        'a ".." path in a pax header',
        [{ path: 'package/harmless', paxPath: 'package/../../../x' }],
        'the archive entry "package/../../../x" points outside the package directory (a ".." segment)',
      ],
    ])('%s', async (_, entries, message) => {
      const error = await scanTar(rawTar([{ path: 'package/index.js', data: 'ok' }, ...entries]), manifestOnly()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TarError);
      expect(error).toMatchObject({ message, entry: entries[entries.length - 1].paxPath ?? entries[entries.length - 1].path });
    });

    it('takes directories, the root entry and repeated directories', async () => {
      const ok = rawTar([
        { path: './', type: '5' },
        { path: 'package/', type: '5' },
        { path: 'package/', type: '5' },
        { path: 'package/package.json', data: '{}' },
      ]);
      expect(paths(await scanTar(ok, manifestOnly()))).toEqual(['package/package.json']);
    });
  });

  describe('links: inside (Conan packages of shared libraries)', () => {
    const inside = { maxUnpackedSize: 1 << 20, links: 'inside' as const };

    it('takes links that stay inside the archive', async () => {
      const ok = rawTar([
        { path: 'lib/libz.so.1.3', data: 'elf' },
        { path: 'lib/libz.so.1', type: '2', link: 'libz.so.1.3' },
        { path: 'lib/libz.so', type: '2', link: 'libz.so.1' },
        { path: 'bin/z', type: '2', link: '../lib/./libz.so' },
        { path: 'lib/copy.so', type: '1', link: 'lib/libz.so.1.3' },
      ]);
      expect(await scanTar(ok, inside)).toEqual([]);
    });

    it.each<[string, Raw[], string]>([
      [
        'a link climbing out',
        [{ path: 'lib/x', type: '2', link: '../../etc/passwd' }],
        'the symbolic link "lib/x" points outside the package directory (to "../../etc/passwd")',
      ],
      [
        'an absolute link',
        [{ path: 'lib/x', type: '2', link: '/etc/passwd' }],
        'the symbolic link "lib/x" points outside the package directory (to "/etc/passwd")',
      ],
      [
        'an entry written through a link',
        [{ path: 'etc', type: '2', link: 'lib' }, { path: 'etc/x' }],
        'the archive entry "etc/x" lies under the symbolic link "etc"',
      ],
      [
        'a link replacing a directory in use',
        [{ path: 'lib/a' }, { path: 'lib', type: '2', link: 'bin' }],
        'the symbolic link "lib" stands where other entries need a directory',
      ],
      [
        'a link whose ".." goes through another link',
        [
          { path: 'a/up', type: '2', link: '..' },
          { path: 'a/out', type: '2', link: 'up/../x' },
        ],
        'the symbolic link "a/out" points through the symbolic link "a/up"',
      ],
      [
        'a hard link climbing out',
        [{ path: 'lib/x', type: '1', link: '../etc/passwd' }],
        'the hard link "lib/x" to "../etc/passwd": its target points outside the package directory (a ".." segment)',
      ],
      [
        'a hard link through a symlink',
        [
          { path: 'up', type: '2', link: 'lib' },
          { path: 'x', type: '1', link: 'up/y' },
        ],
        'the hard link "x" points through the symbolic link "up"',
      ],
      ['a name climbing out', [{ path: '../x' }], 'the archive entry "../x" points outside the package directory (a ".." segment)'],
    ])('refuses %s', async (_, entries, message) => {
      await expect(scanTar(rawTar(entries), inside)).rejects.toThrow(new TarError(message));
    });
  });

  describe('tarScanStage', () => {
    const collect = () => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          chunks.push(chunk);
          done();
        },
      });
      return { sink, bytes: () => Buffer.concat(chunks) };
    };

    it('passes the bytes on unchanged while it reads the archive beside them', async () => {
      const bytes = gzipSync(tar({ 'package/package.json': '{"a":1}', 'package/random.bin': randomBytes(3 << 20) }));
      const scan = tarScanStage(manifestOnly());
      const out = collect();
      const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
      await pipeline(Readable.from(chunks), scan.stage, out.sink);
      expect(out.bytes().equals(bytes)).toBe(true);
      expect(scan.problem()).toBeUndefined();
      expect(scan.kept().map((e) => e.data.toString())).toEqual(['{"a":1}']);
    });

    it('fails the stream, and says why, when the archive is refused', async () => {
      for (const [bytes, message] of [
        [rawTar([{ path: 'lib/x', type: '2', link: '/etc' }]), 'the archive entry "lib/x" is a symbolic link'],
        [Buffer.from('plain text'), 'not a gzipped tar archive'],
        [gzipSync(tar({ 'package/index.js': 'x'.repeat(5000) }).subarray(0, 2048)), 'the archive is truncated'],
      ] as const) {
        const scan = tarScanStage(manifestOnly());
        await expect(pipeline(Readable.from([bytes]), scan.stage, collect().sink)).rejects.toThrow(message);
        expect(scan.problem()).toEqual(new TarError(message));
      }
      const bomb = zeroTarGz('package/zeros', 256);
      const scan = tarScanStage(manifestOnly({ maxUnpackedSize: 1 << 20 }));
      await expect(pipeline(Readable.from([bomb]), scan.stage, collect().sink)).rejects.toThrow('the archive expands beyond 1048576 bytes');
    });

    it('blames the upload, not the archive, when the upload stops first', async () => {
      const scan = tarScanStage(manifestOnly());
      const bytes = gzipSync(tar({ 'package/package.json': '{}' }));
      const source = new Readable({ read() {} });
      source.push(bytes.subarray(0, 20));
      const done = pipeline(source, scan.stage, collect().sink);
      source.destroy(new Error('client went away'));
      await expect(done).rejects.toThrow('client went away');
      expect(scan.problem()).toBeUndefined();
    });
  });
});
