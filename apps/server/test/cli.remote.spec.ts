import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { FileStorage } from '@stowage/core';
import { genericFormat } from '@stowage/format-generic';
import { startTestServer, type TestServer } from '@stowage/testkit';
import { DataSource } from 'typeorm';

import { runCli } from '../src/cli';

// `stowage remote list|prune` against the database of a real server whose cache holds three
// files (recorded as RemoteFiles records them: a blob and a remote_files row each).

describe('stowage remote list and prune', () => {
  let s: TestServer;
  let yml: string;
  let ymlNoLimits: string;
  let out: string;
  let err: string;
  let spies: jest.SpyInstance[];
  const sql = (q: string, params: unknown[] = []) => s.app.get(DataSource).query(q, params);
  const cliWith = async (config: string, ...args: string[]) => {
    out = '';
    err = '';
    return runCli(['--config', config, ...args]);
  };
  const cli = (...args: string[]) => cliWith(yml, ...args);
  const cached = async () =>
    (await sql('SELECT file_name FROM remote_files ORDER BY file_name')).map((r: { file_name: string }) => r.file_name);

  beforeAll(async () => {
    s = await startTestServer({ formats: [genericFormat], mode: 'postgres', listen: false });
    yml = join(s.dataDir, 'stowage.yml');
    const base = `data_dir: ${s.dataDir}\ndatabase:\n  url: ${s.config.database.url}\nlog:\n  level: silent\n`;
    await writeFile(yml, base);
    ymlNoLimits = join(s.dataDir, 'stowage-no-limits.yml');
    await writeFile(ymlNoLimits, `${base}packages:\n  remote_cache:\n    max_size: 0\n`);
    const seed: [string, string, string, number, number][] = [
      ['npm', 'left-pad', 'left-pad-1.3.0.tgz', 1000, 1],
      ['npm', 'chalk', 'chalk-5.3.0.tgz', 2000, 30],
      ['pypi', 'requests', 'requests-2.32.3-py3-none-any.whl', 3000, 2],
    ];
    for (const [type, name, file, size, daysAgo] of seed) {
      const blob = await s.app.get(FileStorage).store(Readable.from([randomBytes(size)]));
      await sql(
        `INSERT INTO remote_files (package_type, package_name, version, file_name, url, file_sha256, size, last_used_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, now() - make_interval(days => $7))`,
        [type, name, file, `https://registry.example/${name}/-/${file}`, blob.sha256, size, daysAgo],
      );
    }
  });
  afterAll(() => s?.close());
  beforeEach(() => {
    spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation((c) => ((out += String(c)), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((c) => ((err += String(c)), true)),
    ];
  });
  afterEach(() => spies.forEach((spy) => spy.mockRestore()));

  it('list shows every cached file with its origin, size and last download, then the totals', async () => {
    expect(await cli('remote', 'list')).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0].split('\t')).toEqual([
      'id',
      'package_type',
      'package_name',
      'version',
      'file_name',
      'size',
      'last_downloaded_at',
      'upstream_url',
    ]);
    expect(lines).toHaveLength(5);
    const chalk = lines.find((l) => l.includes('chalk-5.3.0.tgz'))!.split('\t');
    expect(chalk.slice(1, 6)).toEqual(['npm', 'chalk', '-', 'chalk-5.3.0.tgz', '2000']);
    expect(Date.now() - Date.parse(chalk[6])).toBeGreaterThan(29 * 86_400_000);
    expect(chalk[7]).toBe('https://registry.example/chalk/-/chalk-5.3.0.tgz');
    expect(lines[4]).toBe('3 cached file(s), 6000 bytes (6.0 KB)');

    expect(await cli('remote', 'list', '--package-type', 'pypi')).toBe(0);
    expect(out).toContain('requests-2.32.3-py3-none-any.whl');
    expect(out).not.toContain('.tgz');
    expect(out).toContain('1 cached file(s), 3000 bytes');
  });

  it('refuses what it cannot do as usage errors, and changes nothing', async () => {
    expect(await cli('remote', 'list', '--package-type', 'nonesuch')).toBe(2);
    expect(err).toContain('nonesuch is not an installed format');
    expect(await cliWith(ymlNoLimits, 'remote', 'prune')).toBe(2);
    expect(err).toContain('nothing to prune by');
    // The configured limits by default: 20 GiB holds all three.
    expect(await cli('remote', 'prune')).toBe(0);
    expect(out).toContain('removed: 0 cached file(s)');
    expect(await cli('remote', 'prune', '--max-size', 'ten')).toBe(2);
    expect(await cli('remote', 'prune', '--max-unused-days', '0')).toBe(2);
    expect(await cli('remote', 'prune', 'now')).toBe(2);
    expect(await cached()).toHaveLength(3);
  });

  it('prune removes files unused for days, then the least recently downloaded past a size', async () => {
    expect(await cli('remote', 'prune', '--max-unused-days', '7')).toBe(0);
    expect(out).toContain('removed: 1 cached file(s), 2000 bytes');
    expect(out).toContain('blob collector');
    expect(await cached()).toEqual(['left-pad-1.3.0.tgz', 'requests-2.32.3-py3-none-any.whl']);
    const [{ orphaned }] = await sql(
      `SELECT count(*)::int AS orphaned FROM blobs WHERE orphaned_at IS NOT NULL AND sha256 NOT IN (SELECT file_sha256 FROM remote_files)`,
    );
    expect(orphaned).toBe(1);

    // left-pad (1 day ago) is more recent than requests (2 days ago): 1000 bytes keep left-pad only.
    expect(await cli('remote', 'prune', '--max-size', '1000')).toBe(0);
    expect(out).toContain('removed: 1 cached file(s), 3000 bytes');
    expect(await cached()).toEqual(['left-pad-1.3.0.tgz']);
  });
});
