/**
 * JSON (and form values) a client sent. V8's JSON.parse is iterative, so any depth parses;
 * what fails is later and far from the request: JSON.stringify, node-postgres' jsonb
 * serialization and class-validator recurse, and throw RangeError a few thousand levels
 * down; PostgreSQL refuses some strings (see unstorableText). Both are refused here,
 * at the door.
 */
import { UNSTORABLE_TEXT, type UnstorableText, unstorableText } from './storable-text';

/** Ruby's JSON `max_nesting` default: the deepest document GitLab accepts. */
export const MAX_JSON_DEPTH = 100;

export interface UntrustedJsonOptions {
  /** Deepest nesting of objects and arrays allowed; a bare scalar is depth 0. */
  maxDepth?: number;
}

/** Why a parsed value may not go further: the wording Ruby's parser uses for depth. */
export class UntrustedJsonError extends Error {
  constructor(
    readonly reason: 'syntax' | 'depth' | UnstorableText,
    message: string,
  ) {
    super(message);
    this.name = 'UntrustedJsonError';
  }
}

function textError(text: string): UntrustedJsonError | null {
  const kind = unstorableText(text);
  return kind ? new UntrustedJsonError(kind, `${UNSTORABLE_TEXT[kind]} is not allowed`) : null;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * What is wrong with a parsed value (nesting past `maxDepth`, a key or string PostgreSQL cannot store), or
 * null. Walks iteratively, so the check itself cannot overflow the stack; anything that is
 * not a string, array or plain object (a stream body, a Buffer) is left alone.
 */
export function untrustedValueProblem(value: unknown, opts: UntrustedJsonOptions = {}): UntrustedJsonError | null {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      const problem = textError(v);
      if (problem) return problem;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const isArray = Array.isArray(v);
    if (!isArray && !isPlainObject(v)) continue;
    if (depth + 1 > maxDepth) return new UntrustedJsonError('depth', `nesting of ${depth + 1} is too deep (at most ${maxDepth})`);
    if (isArray) {
      for (const inner of v as unknown[]) {
        values.push(inner);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key in v) {
      const problem = textError(key);
      if (problem) return problem;
      values.push((v as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return null;
}

/** JSON.parse for client text: throws UntrustedJsonError on bad syntax, too deep a nesting, or unstorable text. */
export function parseUntrustedJson(text: string, opts: UntrustedJsonOptions = {}): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UntrustedJsonError('syntax', (err as Error).message);
  }
  const problem = untrustedValueProblem(value, opts);
  if (problem) throw problem;
  return value;
}
