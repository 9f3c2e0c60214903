import { groupDocument, isValidName, packageVersion, versionFromBranch, versionFromTag } from '../src/composer.naming';

describe('composer naming', () => {
  it("derives versions from tags and branches as GitLab's spec table does", () => {
    expect(['v1.0.0', '1.0.2-beta2', '1.0.1+meta', 'v2.0.0-rc.1'].map(versionFromTag)).toEqual([
      '1.0.0',
      '1.0.2-beta2',
      '1.0.1+meta',
      '2.0.0-rc.1',
    ]);
    const branches = {
      master: 'dev-master',
      'my-feature': 'dev-my-feature',
      '12-feature': 'dev-12-feature',
      v1: '1.x-dev',
      'v1.x': '1.x-dev',
      'v1.7': '1.7.x-dev',
      'v1.7.x': '1.7.x-dev',
      '1.7.x': '1.7.x-dev',
    };
    expect(Object.fromEntries(Object.keys(branches).map((b) => [b, versionFromBranch(b)]))).toEqual(branches);
  });

  it('refuses versions that are neither SemVer nor dev versions', () => {
    for (const v of ['1.0', '1.0.0.0', '01.0.0', 'latest', '', '1.0.0 ', 'dev-']) expect(() => packageVersion(v, 'version')).toThrow();
    for (const v of ['0.0.1', '1.2.3-alpha.1', 'dev-feature/x', '2.x-dev', '1.7.x-dev']) expect(packageVersion(v, 'version')).toBe(v);
  });

  it("checks names with Composer's rule", () => {
    expect(['acme/pkg', 'a-b/c.d_e', 'acme/x--y', '0/0'].every(isValidName)).toBe(true);
    expect(['Acme/pkg', 'acme', 'acme/pkg/x', '/pkg', 'acme/-pkg', 'acme/pkg.', 'a..b/c'].some(isValidName)).toBe(false);
  });

  it('parses the paths of the group documents', () => {
    expect(groupDocument('packages.json')).toEqual({ kind: 'root' });
    expect(groupDocument('p2/acme/pkg.json')).toEqual({ kind: 'p2', name: 'acme/pkg', dev: false });
    expect(groupDocument('p2/acme/pkg~dev.json')).toEqual({ kind: 'p2', name: 'acme/pkg', dev: true });
    expect(groupDocument('p/abc123.json')).toEqual({ kind: 'providers' });
    expect(groupDocument('acme/pkg$abc.json')).toEqual({ kind: 'v1', name: 'acme/pkg' });
    // A vendor named p or p2 still reaches its Composer 1 provider file.
    expect(groupDocument('p2/pkg$abc.json')).toEqual({ kind: 'v1', name: 'p2/pkg' });
    for (const bad of ['acme/pkg$.json', 'p2/Acme/pkg.json', 'nothing', 'p/a/b.json']) expect(() => groupDocument(bad)).toThrow();
  });
});
