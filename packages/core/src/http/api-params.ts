import { httpErrors } from './http-error';

/**
 * Parameters of a GitLab-style REST call: the JSON or form body merged over the query
 * string, read with Grape's error wording (`name is missing`, `visibility does not have a
 * valid value`).
 */
export class ApiParams {
  private readonly values: Record<string, unknown>;

  constructor(query: unknown, body: unknown) {
    const merged: Record<string, unknown> = {};
    for (const source of [query, body]) {
      if (typeof source !== 'object' || source === null || Array.isArray(source)) continue;
      for (const [k, v] of Object.entries(source)) merged[k.endsWith('[]') ? k.slice(0, -2) : k] = v;
    }
    this.values = merged;
  }

  has(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  string(key: string, opts: { required: true; max?: number }): string;
  string(key: string, opts?: { required?: false; max?: number }): string | undefined;
  string(key: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '') {
      if (opts.required) throw httpErrors.missingParam(key);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') throw httpErrors.invalidParam(key);
    const s = String(v);
    if (opts.max !== undefined && s.length > opts.max)
      throw httpErrors.invalidParam(key, `is too long (maximum is ${opts.max} characters)`);
    return s;
  }

  integer(key: string, opts: { required: true }): number;
  integer(key: string, opts?: { required?: false }): number | undefined;
  integer(key: string, opts: { required?: boolean } = {}): number | undefined {
    const s = this.string(key, { required: opts.required as false });
    if (s === undefined) return undefined;
    if (!/^\d{1,9}$/.test(s)) throw httpErrors.invalidParam(key);
    return Number(s);
  }

  boolean(key: string): boolean | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (v === true || v === 'true' || v === '1' || v === 1) return true;
    if (v === false || v === 'false' || v === '0' || v === 0) return false;
    throw httpErrors.invalidParam(key);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const s = this.string(key, { required: opts.required as false });
    if (s === undefined) return undefined;
    if (!allowed.includes(s as T)) throw httpErrors.invalidParam(key, 'does not have a valid value');
    return s as T;
  }

  /** `scopes[]=a&scopes[]=b`, `["a","b"]` or `a,b`. */
  list(key: string, opts: { required?: boolean; allowed?: readonly string[] } = {}): string[] | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      if (opts.required) throw httpErrors.missingParam(key);
      return undefined;
    }
    const items = Array.isArray(v)
      ? v.map(String)
      : String(v)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
    if (opts.allowed && items.some((i) => !opts.allowed!.includes(i))) throw httpErrors.invalidParam(key, 'does not have a valid value');
    return [...new Set(items)];
  }

  /** An ISO date or date-time (years 1 to 9999); a bare date means the start of that day in UTC. */
  date(key: string): Date | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    const day = /^\d{4}-\d{2}-\d{2}$/.test(s);
    const d = new Date(day ? `${s}T00:00:00Z` : s);
    // Years Postgres' date type and GitLab's date params take (year 0 or 275760 would be a 500).
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) throw httpErrors.invalidParam(key);
    // A day that does not exist (2025-02-30) is refused, not rolled over into March.
    if (day && d.toISOString().slice(0, 10) !== s) throw httpErrors.invalidParam(key);
    return d;
  }

  /** A token's expiry: a date, not before today (a token that is born expired is a mistake). */
  expiry(key: string): Date | undefined {
    const d = this.date(key);
    if (d && d.getTime() < Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())) {
      throw httpErrors.invalidParam(key, 'must not be in the past');
    }
    return d;
  }
}
