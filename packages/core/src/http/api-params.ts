import { httpErrors } from './http-error';

/**
 * Parameters of a GitLab-style REST call: the JSON or form body merged over the query
 * string, read with Grape's error wording (`name is missing`, `visibility does not have a
 * valid value`).
 */
/** `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and then a zone, `Z` or `±HH:MM`. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

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

  /** Whether the request names the key at all, `null` and `''` included: how an update clears a setting. */
  given(key: string): boolean {
    return Object.hasOwn(this.values, key);
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
  /**
   * An ISO 8601 date (`2027-01-31`, midnight UTC) or date-time with its zone (`…T10:00:00Z`,
   * `…+02:00`). Every field is checked: a day that does not exist (`2027-02-30`) is refused,
   * never rolled into the next month as JavaScript's Date would.
   */
  date(key: string): Date | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    const m = ISO_DATE.exec(s);
    if (!m) throw httpErrors.invalidParam(key);
    const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v)));
    const zone = m[8] ?? 'Z';
    const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const fields = Date.UTC(year!, month! - 1, day!, hour, minute, second);
    const back = new Date(fields);
    // Years Postgres' date type and GitLab's date params take (year 0 or 275760 would be a 500).
    const valid =
      year! >= 1 &&
      back.getUTCFullYear() === year &&
      back.getUTCMonth() === month! - 1 &&
      back.getUTCDate() === day &&
      hour < 24 &&
      minute < 60 &&
      second < 60 &&
      Math.abs(offset) <= 14 * 60;
    const d = new Date(fields - offset * 60_000 + (m[7] ? Number(`0.${m[7]}`) * 1000 : 0));
    if (!valid || d.getUTCFullYear() > 9999) throw httpErrors.invalidParam(key);
    return d;
  }

  /** A token's expiry: a date still to come (a token that is born expired is a mistake). */
  expiry(key: string): Date | undefined {
    const d = this.date(key);
    if (d && d.getTime() <= Date.now()) throw httpErrors.invalidParam(key, 'must be in the future');
    return d;
  }
}
