import { parseConanInfo } from '../src/conan.metadata';
import { packageVersion, recipeRef, refFromPackage, refString, searchPattern } from '../src/conan.naming';

describe('conan naming', () => {
  const ref = (s: string) => {
    const [nv, uc = '_/_'] = s.split('@');
    const [name, version] = nv.split('/');
    const [user, channel] = uc.split('/');
    return { name, version, user, channel };
  };

  it('round-trips a reference through the package row', () => {
    for (const r of ['hello/0.1@demo/stable', 'hello/0.1']) {
      const parsed = recipeRef(ref(r));
      expect(refString(refFromPackage({ name: parsed.name, version: packageVersion(parsed) }))).toBe(r);
    }
  });

  it('search patterns: wildcard name, case-insensitive unless told otherwise, user and channel parts', () => {
    expect(searchPattern('hel*').matches(ref('Hello/0.1@demo/stable'))).toBe(true);
    expect(searchPattern('hel*', false).matches(ref('Hello/0.1@demo/stable'))).toBe(false);
    expect(searchPattern('hello/0.*@demo/*').matches(ref('hello/0.1@demo/stable'))).toBe(true);
    expect(searchPattern('hello/0.*@other/*').matches(ref('hello/0.1@demo/stable'))).toBe(false);
    expect(searchPattern('hello/0.1@grp+proj/stable').user).toBe('grp+proj');
    expect(searchPattern('*').matches(ref('x/1@a/b'))).toBe(true);
    expect(() => searchPattern('a'.repeat(201))).toThrow();
    expect(() => searchPattern('a*b*c*d*e*f*')).toThrow();
  });

  it('search patterns never backtrack: five wildcards against many 50-character names answer at once', () => {
    const names = Array.from({ length: 2000 }, (_, i) => ref(`${'a'.repeat(45)}${String(i).padStart(4, '0')}/1.0@demo/stable`));
    const started = Date.now();
    const pattern = searchPattern('a*a*a*a*a*b');
    expect(names.filter((r) => pattern.matches(r))).toEqual([]); // a backtracking matcher spent ~18 ms on each
    expect(Date.now() - started).toBeLessThan(2000);
    expect(searchPattern(`${'a'.repeat(51)}*`).matches(ref('aa/1@demo/stable'))).toBe(false); // longer than any name
    expect(searchPattern('a.b*').matches(ref('axb1/1@demo/stable'))).toBe(false); // `.` is literal
    expect(searchPattern('a.b*').matches(ref('a.b1/1@demo/stable'))).toBe(true);
  });

  it('parses conaninfo.txt of Conan 1 and Conan 2', () => {
    const v1 = parseConanInfo(
      '[settings]\n    os=Linux\n\n[requires]\n    zlib/1.2\n\n[options]\n    shared=False\n\n[full_requires]\n    zlib/1.2.13:abc\n\n[recipe_hash]\n    474dd23a02eb4717261d39ee5dc4293f\n\n[env]\n\n',
    );
    expect(v1).toMatchObject({
      settings: { os: 'Linux' },
      options: { shared: 'False' },
      requires: ['zlib/1.2'],
      full_requires: ['zlib/1.2.13:abc'],
      recipe_hash: '474dd23a02eb4717261d39ee5dc4293f',
    });
    expect(parseConanInfo('[settings]\nos=Linux\n[options]\nshared=False\n')).toMatchObject({
      requires: [],
      full_requires: [],
      recipe_hash: null,
    });
    expect(() => parseConanInfo('[bad header\n')).toThrow();
    expect(() => parseConanInfo('[settings]\nos\n')).toThrow();
    expect(() => parseConanInfo('[recipe_hash]\na\nb\n')).toThrow();
  });
});
