import { createContext, Script } from 'node:vm';

/**
 * Patterns set by maintainers (duplicate exception regexes) and matched against names and
 * versions clients choose. GitLab evaluates them with RE2 (linear time); JS RegExp
 * backtracks, so `(a+)+b` against forty `a`s would stall the event loop for every request.
 * Matching runs in a vm context with a time limit, and the constructs RE2 does not support
 * (backreferences, lookaround) are refused when the pattern is set.
 */
export const UNTRUSTED_MATCH_TIMEOUT_MS = 100;

const sandbox = createContext(Object.create(null) as object);
const TEST = new Script('re.test(s)');

export class RegexTimeoutError extends Error {
  constructor(readonly pattern: string) {
    super(`regular expression took longer than ${UNTRUSTED_MATCH_TIMEOUT_MS} ms`);
    this.name = 'RegexTimeoutError';
  }
}

/** `re.test(s)`, abandoned with RegexTimeoutError past the time limit. */
export function testUntrusted(re: RegExp, s: string, timeoutMs = UNTRUSTED_MATCH_TIMEOUT_MS): boolean {
  const ctx = sandbox as { re?: RegExp; s?: string };
  ctx.re = re;
  ctx.s = s;
  try {
    return TEST.runInContext(sandbox, { timeout: timeoutMs }) === true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new RegexTimeoutError(re.source);
    throw err;
  } finally {
    ctx.re = undefined;
    ctx.s = undefined;
  }
}

/** Why RE2 would refuse the pattern (a construct it does not implement), or null. */
export function re2SyntaxProblem(pattern: string): string | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || (n === 'k' && pattern[i + 2] === '<'))) return 'must not use backreferences';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true; // JS (which runs the pattern) reads `[]` as an empty class, so no special case
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') return 'must not use lookahead or lookbehind';
    }
  }
  return null;
}
