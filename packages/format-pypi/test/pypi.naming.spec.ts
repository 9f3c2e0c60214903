import { compareVersions, versionRanks } from '../src/pypi.naming';
import { type IndexFile, sortFiles } from '../src/pypi.render';

describe('PEP 440 ordering', () => {
  const versions = ['1.0.post1', '1.0', '1.0a1', '1.0.dev0', '0.9', '1.0rc1', '1.0.0', '2!0.1', '1.0b2', 'not-a-version', '1.0+local.1'];

  it('ranks each version once, in the order compareVersions gives, with equal versions sharing a rank', () => {
    const ranks = versionRanks(versions);
    const byRank = [...versions].sort((a, b) => ranks.get(a)! - ranks.get(b)! || (a < b ? -1 : 1));
    expect(byRank).toEqual([
      'not-a-version',
      '0.9',
      '1.0.dev0',
      '1.0a1',
      '1.0b2',
      '1.0rc1',
      '1.0',
      '1.0.0',
      '1.0+local.1',
      '1.0.post1',
      '2!0.1',
    ]);
    expect(ranks.get('1.0')).toBe(ranks.get('1.0.0'));
    for (const a of versions)
      for (const b of versions) expect(Math.sign(ranks.get(a)! - ranks.get(b)!)).toBe(Math.sign(compareVersions(a, b)));
  });

  it('sorts index files by version, then file name', () => {
    const file = (filename: string, version: string) => ({ filename, version }) as IndexFile;
    const sorted = sortFiles([
      file('p-10.0.tar.gz', '10.0'),
      file('p-2.0-py3-none-any.whl', '2.0'),
      file('p-2.0.tar.gz', '2.0'),
      file('p-2.0.0a1.tar.gz', '2.0.0a1'),
    ]);
    expect(sorted.map((f) => f.filename)).toEqual(['p-2.0.0a1.tar.gz', 'p-2.0-py3-none-any.whl', 'p-2.0.tar.gz', 'p-10.0.tar.gz']);
  });
});
