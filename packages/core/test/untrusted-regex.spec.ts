import { duplicateAllowed, type DuplicateSettings } from '../src/packages/package-settings.service';
import { exceptionRegexProblem } from '../src/packages/package-settings.service';
import { re2SyntaxProblem, RegexTimeoutError, testUntrusted } from '../src/text/untrusted-regex';

// Duplicate exception regexes are a maintainer's, matched against names clients choose.
// GitLab runs them on RE2; here a catastrophic pattern must not stall the event loop.

describe('untrusted regular expressions', () => {
  const settings = (duplicate_exception_regex: string, duplicates_allowed = false): DuplicateSettings => ({
    duplicates_allowed,
    duplicate_exception_regex,
  });

  it('a catastrophically backtracking exception regex gives up within the time limit', () => {
    // Unbounded, `(a+)+b` against 27 `a`s takes seconds of blocked event loop.
    const started = Date.now();
    expect(duplicateAllowed(settings('(a+)+b'), 'a'.repeat(27), '1.0.0')).toBe(false);
    expect(duplicateAllowed(settings('(a+)+b', true), 'a'.repeat(27), '1.0.0')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('testUntrusted reports a timeout as RegexTimeoutError', () => {
    expect(() => testUntrusted(/^(?:(a+)+b)$/, 'a'.repeat(30), 20)).toThrow(RegexTimeoutError);
  });

  it('ordinary exception regexes still match anchored names and versions', () => {
    expect(duplicateAllowed(settings('snap-.*'), 'snap-1', '1.0')).toBe(true);
    expect(duplicateAllowed(settings('snap-.*'), 'xsnap-1', '1.0')).toBe(false);
    expect(duplicateAllowed(settings('1\\.0'), 'pkg', '1.0')).toBe(true);
    expect(duplicateAllowed(settings('1\\.0'), 'pkg', '1x0')).toBe(false);
    expect(duplicateAllowed(settings(''), 'pkg', '1.0')).toBe(false);
  });

  it('refuses the constructs RE2 does not implement when the regex is set', () => {
    expect(exceptionRegexProblem('(a)\\1')).toMatch(/backreferences/);
    expect(exceptionRegexProblem('(?<n>a)\\k<n>')).toMatch(/backreferences/);
    expect(exceptionRegexProblem('a(?=b)')).toMatch(/lookahead/);
    expect(exceptionRegexProblem('a(?!b)')).toMatch(/lookahead/);
    expect(exceptionRegexProblem('(?<=a)b')).toMatch(/lookahead/);
    expect(exceptionRegexProblem('(?<!a)b')).toMatch(/lookahead/);
    expect(exceptionRegexProblem('(')).toBe('is not a valid regular expression');
    for (const ok of ['snap-.*', '\\\\1', '[\\1]', '(?:a|b)+', '(?<name>x)', '1\\.0.*']) expect(re2SyntaxProblem(ok)).toBeNull();
  });
});
