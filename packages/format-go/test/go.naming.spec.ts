import {
  canonicalVersion,
  checkModuleVersion,
  compareVersions,
  escapeCase,
  isPseudoVersion,
  parseProxyPath,
  unescapeCase,
} from '../src/go.naming';

describe('go naming', () => {
  it('case-encodes and decodes as module.EscapePath does', () => {
    expect(escapeCase('github.com/Azure/azure-sdk')).toBe('github.com/!azure/azure-sdk');
    expect(unescapeCase('github.com/!azure/azure-sdk')).toBe('github.com/Azure/azure-sdk');
    for (const bad of ['github.com/Azure', 'a/!', 'a/!1', 'a/!!b']) expect(unescapeCase(bad)).toBeNull();
  });

  it('orders versions by semver precedence', () => {
    const sorted = [
      'v1.0.0',
      'v1.0.0-rc.1',
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-beta.11',
      'v1.0.0-beta.2',
      'v0.9.0',
      'v1.10.0',
      'v1.2.0',
    ].sort(compareVersions);
    expect(sorted).toEqual([
      'v0.9.0',
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-beta.2',
      'v1.0.0-beta.11',
      'v1.0.0-rc.1',
      'v1.0.0',
      'v1.2.0',
      'v1.10.0',
    ]);
  });

  it('knows canonical versions and pseudo-versions', () => {
    expect(canonicalVersion('v1.2')).toBe('v1.2.0');
    expect(canonicalVersion('v1.2.3+meta')).toBe('v1.2.3');
    expect(canonicalVersion('v2.0.0+incompatible')).toBe('v2.0.0+incompatible');
    expect(isPseudoVersion('v0.0.0-20240101000000-abcdefabcdef')).toBe(true);
    expect(isPseudoVersion('v1.2.4-0.20240101000000-abcdefabcdef')).toBe(true);
    expect(isPseudoVersion('v1.2.3-pre.0.20240101000000-abcdefabcdef')).toBe(true);
    expect(isPseudoVersion('v1.2.3-rc.1')).toBe(false);
    expect(() => checkModuleVersion('example.com/m/v3', 'v3.1.0')).not.toThrow();
  });

  it('parses proxy paths and refuses everything else', () => {
    expect(parseProxyPath('example.com/!m/@v/v1.0.0-!r.zip')).toEqual({ kind: 'zip', module: 'example.com/M', version: 'v1.0.0-R' });
    expect(parseProxyPath('example.com/m/sub/@latest')).toEqual({ kind: 'latest', module: 'example.com/m/sub' });
    for (const bad of [
      '@v/list',
      'example.com/m/@v/',
      'example.com/m/@v/v1.0.0.tar',
      'example.com/../m/@v/list',
      'example.com/m/@v/x/v1.zip',
    ]) {
      expect(() => parseProxyPath(bad)).toThrow();
    }
  });
});
