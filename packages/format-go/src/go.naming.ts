/** The package_type of this format's packages (and its `formats.<name>` config key). */
export const GO = 'go';

// Go module paths, versions and file paths, as golang.org/x/mod/module and /semver define them.

/** A rule the go command enforces was broken; `message` says which, in go's own words where it has them. */
export class GoNameError extends Error {}

const fail = (message: string): never => {
  throw new GoNameError(message);
};

// ---- case encoding (module.EscapePath / UnescapePath) ----

/** `github.com/Azure` → `github.com/!azure`. */
export function escapeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Inverse of escapeCase; null for an upper-case letter or a `!` not before a lower-case letter. */
export function unescapeCase(s: string): string | null {
  if (/[A-Z]/.test(s) || /![^a-z]|!$/.test(s)) return null;
  return s.replace(/!([a-z])/g, (_m, c: string) => c.toUpperCase());
}

// ---- semantic versions (golang.org/x/mod/semver) ----

export interface Semver {
  major: string;
  minor: string;
  patch: string;
  /** `-rc.1`, or '' for a release. */
  prerelease: string;
  /** `+incompatible`, or ''. */
  build: string;
  /** Written as vMAJOR.MINOR.PATCH, not a shorthand like v1.2. */
  full: boolean;
}

const NUM = '0|[1-9][0-9]*';
const PRE_ID = '(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(
  `^v(${NUM})(?:\\.(${NUM})(?:\\.(${NUM})(-${PRE_ID}(?:\\.${PRE_ID})*)?(\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?)?)?$`,
);

export function parseSemver(v: string): Semver | null {
  const m = SEMVER.exec(v);
  if (!m) return null;
  return { major: m[1], minor: m[2] ?? '0', patch: m[3] ?? '0', prerelease: m[4] ?? '', build: m[5] ?? '', full: m[3] !== undefined };
}

/** semver.Canonical: vX.Y.Z[-pre], keeping only `+incompatible` of the build metadata. */
export function canonicalVersion(v: string): string | null {
  const s = parseSemver(v);
  if (!s) return null;
  return `v${s.major}.${s.minor}.${s.patch}${s.prerelease}${s.build === '+incompatible' ? s.build : ''}`;
}

function compareNum(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const x = a.slice(1).split('.');
  const y = b.slice(1).split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const xn = /^[0-9]+$/.test(x[i]);
    const yn = /^[0-9]+$/.test(y[i]);
    if (xn && yn) return compareNum(x[i], y[i]);
    if (xn !== yn) return xn ? -1 : 1;
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** semver.Compare for valid versions (build metadata ignored). */
export function compareVersions(a: string, b: string): number {
  const x = parseSemver(a)!;
  const y = parseSemver(b)!;
  return (
    compareNum(x.major, y.major) ||
    compareNum(x.minor, y.minor) ||
    compareNum(x.patch, y.patch) ||
    comparePrerelease(x.prerelease, y.prerelease)
  );
}

const PSEUDO = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+)?$/;

/** module.IsPseudoVersion: never listed in `@v/list`. */
export function isPseudoVersion(v: string): boolean {
  return (v.match(/-/g)?.length ?? 0) >= 2 && PSEUDO.test(v) && parseSemver(v) !== null;
}

// ---- paths (module.CheckPath / CheckFilePath) ----

const WINDOWS_RESERVED = new Set(['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])]);
const MODULE_CHAR = /^[A-Za-z0-9._~-]$/;
const FILE_CHAR_ASCII = /^[A-Za-z0-9!#$%&()+,\-.=@[\]^_{}~ ]$/;
/** Whole elements of only allowed ASCII characters, checked in one test (a module zip may hold 100,000s of paths). */
const ASCII_ELEMENT = { module: /^[A-Za-z0-9._~-]*$/, file: /^[A-Za-z0-9!#$%&()+,\-.=@[\]^_{}~ ]*$/ };

function fileCharOk(c: string): boolean {
  return c.charCodeAt(0) < 0x80 ? FILE_CHAR_ASCII.test(c) : /^\p{L}$/u.test(c);
}

function checkElement(elem: string, kind: 'module' | 'file'): void {
  if (elem === '') fail('empty path element');
  if (elem === '.' || elem === '..') fail(`invalid path element "${elem}"`);
  if (kind === 'module' && elem.startsWith('.')) fail('leading dot in path element');
  if (elem.endsWith('.')) fail('trailing dot in path element');
  if (!ASCII_ELEMENT[kind].test(elem)) {
    for (const c of elem) {
      if (!(kind === 'module' ? MODULE_CHAR.test(c) : fileCharOk(c))) fail(`invalid char ${JSON.stringify(c)}`);
    }
  }
  const dot = elem.indexOf('.');
  const short = dot === -1 ? elem : elem.slice(0, dot);
  if ((short.length === 3 || short.length === 4) && WINDOWS_RESERVED.has(short.toUpperCase())) {
    fail(`"${short}" disallowed as path element component on Windows`);
  }
  if (kind === 'module') {
    const tilde = short.lastIndexOf('~');
    if (tilde >= 0 && /^[0-9]+$/.test(short.slice(tilde + 1))) fail(`trailing tilde and digits in path element`);
  }
}

function checkPath(path: string, kind: 'module' | 'file'): void {
  if (path === '') fail('empty string');
  if (path.startsWith('/')) fail('leading slash');
  if (path.includes('//')) fail('double slash');
  if (path.endsWith('/')) fail('trailing slash');
  for (const elem of path.split('/')) checkElement(elem, kind);
}

/** module.CheckFilePath: a path inside a module zip, relative to its root. */
export function checkFilePath(path: string): void {
  checkPath(path, 'file');
}

/**
 * module.SplitPathVersion: `example.com/m/v2` → prefix `example.com/m`, major `/v2`.
 * A `/v0`, `/v1` or `/v02` suffix is an error. (gopkg.in's `.vN` paths are not special-cased.)
 */
export function splitPathMajor(path: string): { prefix: string; major: string } {
  const m = /^(.*)\/v([0-9.]+)$/.exec(path);
  if (!m || m[1] === '') return { prefix: path, major: '' };
  if (m[2].includes('.') || m[2].startsWith('0') || m[2] === '1') fail(`invalid major version suffix /v${m[2]}`);
  return { prefix: m[1], major: `/v${m[2]}` };
}

/** module.CheckPath: the path a module is published and fetched under. */
export function checkModulePath(path: string): void {
  checkPath(path, 'module');
  const first = path.split('/')[0];
  if (!first.includes('.')) fail(`missing dot in first path element`);
  if (first.startsWith('-')) fail('leading dash in first path element');
  if (!/^[a-z0-9.-]+$/.test(first)) fail(`invalid char in first path element ${JSON.stringify(first)}`);
  splitPathMajor(path);
}

/**
 * module.Check plus the go command's `+incompatible` rules: a canonical version whose major
 * agrees with the path's `/vN` suffix; `+incompatible` only for v2+ of a path without one.
 */
export function checkModuleVersion(path: string, version: string): Semver {
  const s = parseSemver(version);
  if (!s) fail(`invalid version: "${version}" is not a semantic version (want vMAJOR.MINOR.PATCH)`);
  if (canonicalVersion(version) !== version) fail(`invalid version: "${version}" is not canonical (want ${canonicalVersion(version)})`);
  const { major } = splitPathMajor(path);
  const v = s!;
  if (v.build === '+incompatible') {
    if (major !== '') fail(`invalid version: +incompatible suffix not allowed: module path has major version suffix ${major}`);
    if (v.major === '0' || v.major === '1')
      fail(`invalid version: +incompatible suffix not allowed: major version v${v.major} is compatible`);
    return v;
  }
  const want = major === '' ? 'v0 or v1' : major.slice(1);
  if (major === '' ? v.major !== '0' && v.major !== '1' : `v${v.major}` !== want) {
    fail(`invalid version: should be ${want}, not v${v.major}`);
  }
  return v;
}

// ---- proxy URLs ----

export type ProxyRequest =
  { kind: 'list'; module: string } | { kind: 'latest'; module: string } | { kind: 'info' | 'mod' | 'zip'; module: string; version: string };

/**
 * Parses what follows `/packages/go/`: `<module>/@v/list`, `<module>/@latest` or
 * `<module>/@v/<version>.info|.mod|.zip`, both parts case-encoded. Throws GoNameError when
 * it is none of these (for a GET that is a miss: the go command probes path prefixes).
 */
export function parseProxyPath(rest: string): ProxyRequest {
  const at = rest.indexOf('/@');
  if (at <= 0) fail('not a module proxy path (want <module>/@v/... or <module>/@latest)');
  const module = unescapeCase(rest.slice(0, at)) ?? fail('malformed case-encoding in module path');
  checkModulePath(module);
  const tail = rest.slice(at + 1);
  if (tail === '@latest') return { kind: 'latest', module };
  if (tail === '@v/list') return { kind: 'list', module };
  const m =
    /^@v\/([^/]+)\.(info|mod|zip)$/.exec(tail) ?? fail('not a module proxy path (want @v/list, @v/<version>.info|.mod|.zip or @latest)');
  const version = unescapeCase(m[1]) ?? fail('malformed case-encoding in version');
  // Looked up before it is checked (a GET of any spelling is a miss): keep out what PostgreSQL cannot store.
  if (version.includes('\0')) fail('invalid version: it contains a NUL character');
  return { kind: m[2] as 'info' | 'mod' | 'zip', module, version };
}
