import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readTarballManifest } from '../src/npm.tarball';
import { packageTarball, tarball } from './npm-fixtures';

const run = promisify(execFile);

describe('readTarballManifest', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-npm-tar-'));
    const deep = join(dir, 'package', 'a'.repeat(120), 'b'.repeat(80));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, 'file.js'), 'x'.repeat(3000));
    await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name: 'from-tar', version: '1.2.3' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads package/package.json after long names in GNU and pax archives', async () => {
    for (const format of ['gnu', 'pax']) {
      const file = join(dir, `${format}.tgz`);
      // The long path first, so the reader has to step over its extension headers and data.
      await run('tar', ['-czf', file, `--format=${format}`, '-C', dir, `package/${'a'.repeat(120)}`, 'package/package.json']);
      expect(await readTarballManifest(await readFile(file))).toEqual({ name: 'from-tar', version: '1.2.3' });
    }
  });

  it('ignores package.json files deeper in the tree and rejects broken archives', async () => {
    const nested = tarball({ 'package/lib/package.json': '{"name":"inner"}', 'package/package.json': '{"name":"outer","version":"1.0.0"}' });
    expect(await readTarballManifest(nested)).toEqual({ name: 'outer', version: '1.0.0' });
    expect(await readTarballManifest(packageTarball({ name: 'p', version: '0.0.1' }))).toEqual({ name: 'p', version: '0.0.1' });
    await expect(readTarballManifest(Buffer.from('not gzip'))).rejects.toThrow('not a gzipped tarball');
    await expect(readTarballManifest(tarball({ 'package/package.json': '[1]' }))).rejects.toThrow('not a JSON object');
    await expect(readTarballManifest(tarball({ 'package/index.js': 'x' }))).rejects.toThrow('no package/package.json');
    const truncated = packageTarball({ name: 'p', version: '1.0.0' }).subarray(0, 20);
    await expect(readTarballManifest(truncated)).rejects.toThrow();
  });
});
