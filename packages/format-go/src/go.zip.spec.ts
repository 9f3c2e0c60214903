import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { buildZip } from '../test/go-zip';
import { type RangeReader, ZipFormatError, ZipReader } from './go.zip';

const over = (buf: Buffer): RangeReader => async (start, end) => Readable.from([buf.subarray(start, end + 1)]);
const open = (buf: Buffer) => ZipReader.open(over(buf), buf.length);

describe('ZipReader', () => {
  it('lists entries and returns the ones asked for, verified', async () => {
    const zip = buildZip([{ name: 'a/', data: '' }, { name: 'a/x.txt', data: 'x'.repeat(10_000) }, { name: 'b.txt', data: 'bee', method: 0 }]);
    const r = await open(zip);
    expect(r.entries.map((e) => [e.name, e.isDir, e.size])).toEqual([['a/', true, 0], ['a/x.txt', false, 10_000], ['b.txt', false, 3]]);
    const kept = await r.verify(r.entries, (e) => e.name !== 'a/');
    expect([...kept.values()].map((b) => b.toString())).toEqual(['x'.repeat(10_000), 'bee']);
  });

  it('reads what Info-ZIP writes from a pipe (zip64 local header, streamed)', async () => {
    const zip = await new Promise<Buffer>((resolve, reject) => {
      const child = execFile('zip', ['-q', '-', '-'], { encoding: 'buffer' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end('module example.com/piped\n');
    });
    const r = await open(zip);
    expect((await r.verify(r.entries, () => true)).get(r.entries[0])!.toString()).toBe('module example.com/piped\n');
  });

  it.each([
    ['is not a zip', () => Buffer.from('hello world, this is not a zip at all'), /not a zip file/],
    ['is truncated', () => buildZip([{ name: 'a', data: 'aaaa' }]).subarray(10), /corrupt|outside the file|no local header|truncated/],
  ])('refuses a file that %s', async (_what, make, message) => {
    await expect(open(make()).then((r) => r.verify(r.entries))).rejects.toThrow(message);
  });

  it('refuses entries that overlap (one stored range claimed twice)', async () => {
    const zip = buildZip([{ name: 'a', data: 'aaaa' }, { name: 'b', data: 'bbbb' }]);
    const r = await open(zip);
    const twice = [r.entries[0], { ...r.entries[0], name: 'a2' }];
    await expect(r.verify(twice)).rejects.toThrow(/overlaps/);
  });

  it('refuses data that does not match its CRC or size', async () => {
    const zip = buildZip([{ name: 'a', data: 'abcdef', method: 0 }]);
    zip[30 + 1 + 2] ^= 1;
    const r = await open(zip);
    await expect(r.verify(r.entries)).rejects.toThrow(ZipFormatError);
    await expect(r.verify(r.entries)).rejects.toThrow(/checksum error/);
    const short = await open(buildZip([{ name: 'a', data: 'abc', declaredSize: 9 }]));
    await expect(short.verify(short.entries)).rejects.toThrow(/smaller than its declared size/);
  });
});
