import { httpErrors } from '@stowage/core';

// NuGet's id and version rules as GitLab applies them: ids of letters, digits and `-+._`, at
// most 255 characters; SemVer 2.0 versions with an optional fourth number
// (https://learn.microsoft.com/nuget/concepts/package-versioning).

export const NUGET = 'nuget';

const NAME = /^[-+._a-zA-Z0-9]+$/;
const MAX_NAME = 255;
const PRERELEASE_ID = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const VERSION = new RegExp(
  `^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:\\.(0|[1-9]\\d*))?(?:\\.(\\d+))?(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
const MAX_VERSION = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name) && name !== '.' && name !== '..';
}

export function isValidVersion(version: string): boolean {
  return version.length <= MAX_VERSION && VERSION.test(version);
}

/** NuGet ids compare case-insensitively. */
export function normalizeName(name: string): string {
  return name.toLowerCase();
}

/**
 * NuGet ≥ 3.4's normalized version: no leading zeros, no build metadata, lower case, a 4th
 * part only when it is not 0, at least three parts (`1.00` → `1.0.0`, `1.0.0.0` → `1.0.0`).
 * Strings that are not versions are only lower-cased.
 */
export function normalizeVersion(version: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(version);
  if (!m) return version.toLowerCase();
  const num = (s: string | undefined) => String(Number(s ?? '0'));
  const parts = [num(m[1]), num(m[2]), num(m[3])];
  if (m[4] !== undefined && Number(m[4]) !== 0) parts.push(num(m[4]));
  return parts.join('.') + (m[5] ? `-${m[5].toLowerCase()}` : '');
}

export function validName(name: string | undefined, param = 'package_name'): string {
  if (!name || !isValidName(name)) throw httpErrors.invalidParam(param);
  return name;
}

export function validVersion(version: string | undefined, param = 'package_version'): string {
  if (!version || !isValidVersion(version)) throw httpErrors.invalidParam(param);
  return version;
}

interface Parsed {
  nums: number[];
  pre: string[];
}

function parse(v: string): Parsed {
  const core = v.split('+')[0];
  const dash = core.indexOf('-');
  const main = dash >= 0 ? core.slice(0, dash) : core;
  const pre = dash >= 0 ? core.slice(dash + 1).split('.') : [];
  const nums = main.split('.').map((n) => Number(n) || 0);
  while (nums.length < 4) nums.push(0);
  return { nums, pre };
}

/** SemVer 2 precedence over NuGet's four numeric parts; pre-release labels case-insensitively. */
export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 4; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i] - y.nums[i];
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) {
      if (Number(p) !== Number(q)) return Number(p) - Number(q);
    } else if (pn !== qn) return pn ? -1 : 1;
    else {
      const pl = p.toLowerCase();
      const ql = q.toLowerCase();
      if (pl !== ql) return pl < ql ? -1 : 1;
    }
  }
  return x.pre.length - y.pre.length;
}

export function isPrerelease(version: string): boolean {
  return version.split('+')[0].includes('-');
}

/** The stored file name of a package (`<lower id>.<normalized version>.nupkg` or `.snupkg`). */
export function packageFileName(name: string, version: string, symbols = false): string {
  return `${normalizeName(name)}.${normalizeVersion(version)}.${symbols ? 'snupkg' : 'nupkg'}`;
}
