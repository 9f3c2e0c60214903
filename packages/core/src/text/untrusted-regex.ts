import { RE2JS, RE2JSException } from 're2js';

/**
 * Patterns that users write (duplicate exception regexes, search globs) matched against strings
 * users choose. GitLab runs such patterns on RE2; here re2js, RE2's pure-JS port: no
 * backtracking, so the time is linear in program size × input length, whatever the pattern.
 * Linear is not free: where RE2's DFA gives up (`.*a.{20}` and the like) its NFA costs about
 * 0.1 µs per program instruction per input character, on the event loop. So the program is
 * capped (RE2 caps it by memory, far higher): at 128 instructions a 255-character name costs a
 * few milliseconds at worst (measured); ordinary exception patterns compile to under 50.
 */
export const MAX_PROGRAM_SIZE = 128;

/** A pattern RE2 refuses, or one over the program cap; `message` is RE2's own wording. */
export class UntrustedRegexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UntrustedRegexError';
  }
}

const compiled = new Map<string, RE2JS | UntrustedRegexError>();
const CACHE_SIZE = 256;

function compile(pattern: string, flags: number): RE2JS | UntrustedRegexError {
  const key = `${flags}:${pattern}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  let result: RE2JS | UntrustedRegexError;
  try {
    const re = RE2JS.compile(pattern, flags);
    // "pattern too large - compile failed" is what RE2 answers past its own limit.
    result = re.programSize() > MAX_PROGRAM_SIZE ? new UntrustedRegexError('pattern too large - compile failed') : re;
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    result = new UntrustedRegexError(err.message.replace(/^error parsing regexp: /, ''));
  }
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, result);
  return result;
}

/** A user's pattern, compiled by RE2 (throws UntrustedRegexError when RE2 would refuse it). */
export class UntrustedRegex {
  private constructor(private readonly re: RE2JS) {}

  static compile(pattern: string, opts: { ignoreCase?: boolean } = {}): UntrustedRegex {
    const re = compile(pattern, opts.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    if (re instanceof UntrustedRegexError) throw re;
    return new UntrustedRegex(re);
  }

  /** Why RE2 would refuse the pattern (in RE2's words), or null. */
  static problem(pattern: string): string | null {
    const re = compile(pattern, 0);
    return re instanceof UntrustedRegexError ? re.message : null;
  }

  /** A glob (`*` any run of characters, everything else literal) as an RE2 pattern. */
  static glob(glob: string, opts: { ignoreCase?: boolean } = {}): UntrustedRegex {
    return UntrustedRegex.compile(
      glob
        .split('*')
        .map((part) => RE2JS.quote(part))
        .join('.*'),
      opts,
    );
  }

  /** Whether the whole of `input` matches (the pattern is anchored at both ends). */
  matchesWhole(input: string): boolean {
    return this.re.testExact(input);
  }
}
