import { duplicateAllowed, type DuplicateSettings, exceptionRegexProblem } from '../src/packages/package-settings.service';
import { UntrustedRegex, UntrustedRegexError } from '../src/text/untrusted-regex';

// Duplicate exception regexes are a project owner's, matched against names clients choose.
// GitLab runs them on RE2; so does Stowage (re2js), so no pattern can backtrack.

describe('untrusted regular expressions', () => {
  const settings = (duplicate_exception_regex: string, duplicates_allowed = false): DuplicateSettings => ({
    duplicates_allowed,
    duplicate_exception_regex,
  });

  it('(a+)+b against 50,000 `a`s answers at once (a backtracking engine would never finish)', () => {
    const started = process.hrtime.bigint();
    expect(UntrustedRegex.compile('(a+)+b').matchesWhole('a'.repeat(50_000))).toBe(false);
    expect(duplicateAllowed(settings('(a+)+b'), 'a'.repeat(50_000), 'a'.repeat(50_000))).toBe(false);
    expect(duplicateAllowed(settings('(a+)+b', true), 'a'.repeat(50_000), '1.0.0')).toBe(true);
    expect(duplicateAllowed(settings('(a+)+b'), `${'a'.repeat(50_000)}b`, '1.0.0')).toBe(true);
    // JS RegExp needs seconds for 30 `a`s; linear matching of 200,000 characters takes milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });

  it('matches the whole name or version, as an anchored pattern', () => {
    expect(duplicateAllowed(settings('snap-.*'), 'snap-1', '1.0')).toBe(true);
    expect(duplicateAllowed(settings('snap-.*'), 'xsnap-1', '1.0')).toBe(false);
    expect(duplicateAllowed(settings('special'), 'special-app', '1.0')).toBe(false);
    expect(duplicateAllowed(settings('1\\.0'), 'pkg', '1.0')).toBe(true);
    expect(duplicateAllowed(settings('1\\.0'), 'pkg', '1x0')).toBe(false);
    expect(duplicateAllowed(settings('a|ab'), 'ab', '2')).toBe(true); // the whole string, not the leftmost match
    expect(duplicateAllowed(settings(''), 'pkg', '1.0')).toBe(false);
    expect(duplicateAllowed(settings('(?i)SNAP-.*'), 'snap-1', '1.0')).toBe(true);
    expect(duplicateAllowed(settings('SNAP-.*'), 'snap-1', '1.0')).toBe(false);
  });

  it('refuses at save, in RE2’s words, what RE2 cannot run: backreferences, lookaround, possessive repeats', () => {
    expect(exceptionRegexProblem('(a)\\1')).toBe('is not valid RE2 syntax: invalid escape sequence: `\\1`');
    expect(exceptionRegexProblem('(?<n>a)\\k<n>')).toBe('is not valid RE2 syntax: invalid escape sequence: `\\k`');
    expect(exceptionRegexProblem('a(?=b)')).toBe('is not valid RE2 syntax: invalid or unsupported Perl syntax: `(?=`');
    expect(exceptionRegexProblem('a(?!b)')).toBe('is not valid RE2 syntax: invalid or unsupported Perl syntax: `(?!`');
    expect(exceptionRegexProblem('(?<=a)b')).toMatch(/^is not valid RE2 syntax: /);
    expect(exceptionRegexProblem('(?<!a)b')).toMatch(/^is not valid RE2 syntax: /);
    expect(exceptionRegexProblem('a++')).toBe('is not valid RE2 syntax: invalid nested repetition operator: `++`');
    expect(exceptionRegexProblem('(')).toBe('is not valid RE2 syntax: missing closing ): `(`');
    expect(exceptionRegexProblem('a{1001}')).toBe('is not valid RE2 syntax: invalid repeat count: `{1001}`');
    expect(exceptionRegexProblem('x'.repeat(256))).toBe('is too long (maximum is 255 characters)');
    for (const ok of [
      'snap-.*',
      '\\\\1',
      '(?:a|b)+',
      '(?<name>x)',
      '(?P<name>x)',
      '1\\.0.*',
      '\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?',
      '(a+)+b',
      '',
    ]) {
      expect(exceptionRegexProblem(ok)).toBeNull();
    }
  });

  it('refuses a pattern whose program is too large to match in bounded time', () => {
    // Linear, but `.{0,500}`-style repeats make the program (and the NFA's work per character) large.
    expect(exceptionRegexProblem('.*a.{0,200}b')).toBe('is not valid RE2 syntax: pattern too large - compile failed');
    expect(exceptionRegexProblem('.*a.{0,30}b')).toBeNull();
    expect(() => UntrustedRegex.compile('(?:.*a.{0,40}){3}c')).toThrow(UntrustedRegexError);
  });

  it('a pattern RE2 refuses that is already stored counts as no exception, never an error', () => {
    expect(duplicateAllowed(settings('(a)\\1'), 'aa', '1.0')).toBe(false);
    expect(duplicateAllowed(settings('(a)\\1', true), 'aa', '1.0')).toBe(true);
  });

  it('globs quote everything but `*`', () => {
    expect(UntrustedRegex.glob('hel*').matchesWhole('hello')).toBe(true);
    expect(UntrustedRegex.glob('HEL*', { ignoreCase: true }).matchesWhole('hello')).toBe(true);
    expect(UntrustedRegex.glob('HEL*').matchesWhole('hello')).toBe(false);
    expect(UntrustedRegex.glob('a.b(c)+[d]\\e').matchesWhole('a.b(c)+[d]\\e')).toBe(true);
    expect(UntrustedRegex.glob('a.b').matchesWhole('axb')).toBe(false);
    expect(UntrustedRegex.glob('a*a*a*a*a*b').matchesWhole('a'.repeat(50_000))).toBe(false);
  });
});
