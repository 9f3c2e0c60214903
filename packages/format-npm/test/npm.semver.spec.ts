import { highestVersion, isSemver } from '../src/npm.semver';

describe('npm versions', () => {
  it('accepts strict SemVer 2.0.0, build metadata included', () => {
    for (const v of ['1.2.3', '0.0.0', '1.2.3-rc.1', '1.2.3-alpha.beta-1', '1.2.3+build.7', '1.2.3-rc.1+b']) expect(isSemver(v)).toBe(true);
  });

  it('refuses what only loose or normalising parsers accept', () => {
    for (const v of [
      'v1.2.3',
      '=1.2.3',
      ' 1.2.3',
      '1.2.3 ',
      '01.2.3',
      '1.2.3-01',
      '1.2',
      '1.2.3-',
      '1.2.3-a..b',
      '1.2.3+',
      '99999999999999999999.0.0',
    ]) {
      expect(isSemver(v)).toBe(false);
    }
  });

  it('refuses versions longer than 256 characters', () => {
    expect(isSemver(`1.0.0-${'a'.repeat(250)}`)).toBe(true);
    expect(isSemver(`1.0.0-${'a'.repeat(251)}`)).toBe(false);
  });

  it('picks the highest release for latest, else the highest prerelease', () => {
    expect(highestVersion(['1.0.0-rc.10', '1.0.0', '0.9.0', '1.1.0-rc.1', '1.0.0-rc.2'])).toBe('1.0.0');
    expect(highestVersion(['1.0.0-rc.2', '1.0.0-rc.10', '1.0.0-alpha'])).toBe('1.0.0-rc.10');
    expect(highestVersion(['2.0.0', '10.0.0', '9.9.9'])).toBe('10.0.0');
    expect(highestVersion(['2.0.0-rc.1', '99999999999999999999.0.0', '1.0.0'])).toBe('1.0.0');
    expect(highestVersion([])).toBeUndefined();
  });
});
